using ParallelNet.Tensors;

namespace ParallelNet.NN.Internal;

/// <summary>
/// A time-major buffer [steps, n, width] allocated once for the largest batch. For the current n it hands out
/// the whole sequence and one view per step; the views are rebuilt only when n changes, so steady-state
/// steps (same shard size) allocate nothing.
/// </summary>
internal sealed class SequenceViews
{
    private readonly Tensor _full;
    private readonly int _steps, _width;
    private Tensor[] _step = [];
    private readonly Dictionary<(int First, int Count), Tensor> _spans = [];
    private int _rows = -1;

    public SequenceViews(ICompute compute, int steps, int maxBatch, int width)
    {
        _steps = steps;
        _width = width;
        _full = compute.Allocate(new Shape(steps * maxBatch * width));
        All = _full;
    }

    /// <summary>[steps·n, width], the sequence as one matrix (rows ordered by step, then sample).</summary>
    public Tensor All { get; private set; }

    /// <summary>[n, width] of step t.</summary>
    public Tensor this[int t] => _step[t];

    /// <summary>[count·n, width] of steps [first, first + count) (cached until n changes).</summary>
    public Tensor Span(int first, int count)
    {
        if (!_spans.TryGetValue((first, count), out var view))
        {
            view = _full.View(first * _rows * _width, new Shape(count * _rows, _width));
            _spans[(first, count)] = view;
        }
        return view;
    }

    public void Resize(int rows)
    {
        if (rows == _rows) return;
        if ((long)rows * _steps * _width > _full.Length)
            throw new ArgumentOutOfRangeException(nameof(rows), $"A batch of {rows} sequences exceeds the buffer sized for {_full.Length / (_steps * _width)}; pass a larger maxBatch to Model.Create.");
        _rows = rows;
        _spans.Clear();
        All = _full.View(0, new Shape(_steps * rows, _width));
        _step = new Tensor[_steps];
        for (int t = 0; t < _steps; t++) _step[t] = _full.View(t * rows * _width, new Shape(rows, _width));
    }
}

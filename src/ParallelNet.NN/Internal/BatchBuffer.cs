using ParallelNet.Tensors;

namespace ParallelNet.NN.Internal;

/// <summary>
/// A buffer of <c>maxBatch</c> samples allocated once; <see cref="Rows"/> hands out the view of the
/// first n samples and caches it, so steady-state steps (same shard size) allocate nothing.
/// </summary>
internal sealed class BatchBuffer
{
    private readonly Tensor _full;
    private Tensor? _view;

    public BatchBuffer(ICompute compute, int maxBatch, Shape perSample)
    {
        _full = compute.Allocate(perSample.Prepend(maxBatch));
        PerSample = perSample;
    }

    public Shape PerSample { get; }
    public int Capacity => _full.Shape[0];

    public Tensor Rows(int count)
    {
        if (_view is { } v && v.Shape[0] == count) return v;
        if (count > Capacity) throw new ArgumentOutOfRangeException(nameof(count), $"A batch of {count} samples exceeds the {Capacity} the model was created for; pass a larger maxBatch to Model.Create.");
        _view = _full.Rows(0, count);
        return _view;
    }
}

/// <summary>Caches a reshaped view of one tensor, so a reshape per step allocates only when the input changes.</summary>
internal sealed class ReshapeCache
{
    private Tensor? _source;
    private Tensor? _view;

    public Tensor Reshape(Tensor source, Shape perSample)
    {
        if (ReferenceEquals(source, _source) && _view is not null) return _view;
        _source = source;
        _view = source.Reshape(perSample.Prepend(source.Shape[0]));
        return _view;
    }

    /// <summary>The same elements as <paramref name="shape"/> (the batch axis included, so rows may be split).</summary>
    public Tensor ReshapeWhole(Tensor source, Shape shape)
    {
        if (ReferenceEquals(source, _source) && _view is not null && _view.Shape == shape) return _view;
        _source = source;
        _view = source.Reshape(shape);
        return _view;
    }
}

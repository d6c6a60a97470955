using ParallelNet.Tensors;

namespace ParallelNet.NN.Internal;

/// <summary>
/// The virtual shards of one batched pass: consecutive row ranges of every activation, each shard with its own
/// gradient buffer. Row-independent layers run all rows at once (with kernels picked by the shard's rows); parameter
/// gradients and the loss are still taken shard by shard, each into the shard's own buffer, so every shard sees the
/// arithmetic of a pass of that shard alone.
/// </summary>
internal sealed class ShardSegments
{
    // Views are cached by (tensor, rows) so steady-state steps allocate nothing; a few shard sizes per run at most.
    private const int MaxCachedViews = 256;

    private readonly Action<Tensor?> _useGradients;
    private readonly Dictionary<(Tensor Source, int Start, int Count), Tensor> _views = new(new ViewKeyComparer());
    private int[] _rows = [];
    private int[] _starts = [];
    private IReadOnlyList<Tensor> _gradients = [];

    /// <param name="useGradients">Points the parameters' gradients at a buffer (null: back to the model's own).</param>
    public ShardSegments(Action<Tensor?> useGradients) => _useGradients = useGradients;

    public int Count { get; private set; }

    /// <summary>The rows of every shard, in order (a shard may have none).</summary>
    public ReadOnlySpan<int> Rows => _rows.AsSpan(0, Count);

    /// <summary>
    /// True when the parameters' gradients are to be overwritten with their fixed-tree sum over the shards (the model
    /// pointed them at the sum's buffer), false when each shard adds into its own buffer (<see cref="SelectGradients"/>).
    /// </summary>
    public bool SumAlongTree { get; private set; }

    /// <summary>Each shard adds into its own buffer of <paramref name="gradients"/>.</summary>
    public void Reset(ReadOnlySpan<int> rows, IReadOnlyList<Tensor> gradients)
    {
        SetRows(rows);
        _gradients = gradients;
        SumAlongTree = false;
    }

    /// <summary>Layers write the tree sum of the shards' gradients (see <see cref="SumAlongTree"/>).</summary>
    public void ResetForTreeSum(ReadOnlySpan<int> rows)
    {
        SetRows(rows);
        _gradients = [];
        SumAlongTree = true;
    }

    private void SetRows(ReadOnlySpan<int> rows)
    {
        if (_rows.Length < rows.Length)
        {
            _rows = new int[rows.Length];
            _starts = new int[rows.Length];
        }
        Count = rows.Length;
        int start = 0;
        for (int s = 0; s < rows.Length; s++)
        {
            _rows[s] = rows[s];
            _starts[s] = start;
            start += rows[s];
        }
    }

    public int RowsOf(int shard) => _rows[shard];

    /// <summary>Parameter gradients from here on add into the buffer of <paramref name="shard"/>.</summary>
    public void SelectGradients(int shard) => _useGradients(_gradients[shard]);

    /// <summary>Parameter gradients back to the model's own buffer.</summary>
    public void ReleaseGradients() => _useGradients(null);

    /// <summary>The rows of <paramref name="shard"/> in a batch tensor whose leading axis is the sample.</summary>
    public Tensor Slice(Tensor batch, int shard)
    {
        var key = (batch, _starts[shard], _rows[shard]);
        if (_views.TryGetValue(key, out var view)) return view;
        if (_views.Count >= MaxCachedViews) _views.Clear();
        view = batch.Rows(key.Item2, key.Item3);
        _views[key] = view;
        return view;
    }

    private sealed class ViewKeyComparer : IEqualityComparer<(Tensor Source, int Start, int Count)>
    {
        public bool Equals((Tensor Source, int Start, int Count) x, (Tensor Source, int Start, int Count) y) =>
            ReferenceEquals(x.Source, y.Source) && x.Start == y.Start && x.Count == y.Count;

        public int GetHashCode((Tensor Source, int Start, int Count) key) =>
            HashCode.Combine(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(key.Source), key.Start, key.Count);
    }
}

namespace ParallelNet.Tensors.Cpu.Internal;

/// <summary>
/// A host tensor's elements as the kernels' thread blocks take them: spans cannot be captured by the closures that
/// run on the threads, so this holds where the elements are and makes a span of a part on each thread. An array
/// takes the direct way (as the ArraySegment this replaced: going through Memory&lt;float&gt; here made 2-thread mlp
/// steps 10-20 % slower); a transport's lent memory asks its owner. 16 bytes, as closures are allocated per kernel call.
/// </summary>
internal readonly struct HostWindow
{
    // A float[] or a LentHostStorage.
    private readonly object _storage;
    private readonly int _offset;

    public HostWindow(float[] array, int offset, int count)
    {
        _storage = array;
        _offset = offset;
        Count = count;
    }

    public HostWindow(LentHostStorage storage, int offset, int count)
    {
        _storage = storage;
        _offset = offset;
        Count = count;
    }

    public static HostWindow Empty => new([], 0, 0);

    public int Count { get; }

    public Span<float> AsSpan() => AsSpan(0, Count);

    public Span<float> AsSpan(int start, int length)
    {
        if ((uint)start > (uint)Count || (uint)length > (uint)(Count - start))
            throw new ArgumentOutOfRangeException(nameof(start), $"Elements [{start}, {start + length}) lie outside a window of {Count}.");
        return _storage is float[] array
            ? new Span<float>(array, _offset + start, length)
            : ((LentHostStorage)_storage).Memory.Span.Slice(_offset + start, length);
    }

    public static implicit operator Span<float>(HostWindow window) => window.AsSpan();

    public static implicit operator ReadOnlySpan<float>(HostWindow window) => window.AsSpan();
}

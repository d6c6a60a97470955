namespace ParallelNet.Tensors.Cpu.Internal;

/// <summary>
/// A host tensor's elements as the kernels' thread blocks take them: spans cannot be captured by the closures that
/// run on the threads, so this holds where the elements are (an array window, or a transport's lent memory) and makes
/// a span of a part on each thread. Arrays take the direct way; lent memory asks its owner for the span each time.
/// </summary>
internal readonly struct HostWindow
{
    private readonly float[]? _array;
    private readonly int _offset;
    private readonly Memory<float> _memory;

    public HostWindow(float[] array, int offset, int count)
    {
        _array = array;
        _offset = offset;
        Count = count;
    }

    public HostWindow(Memory<float> memory)
    {
        _memory = memory;
        Count = memory.Length;
    }

    public static HostWindow Empty => new([], 0, 0);

    public int Count { get; }

    public Span<float> AsSpan() => _array is not null ? new Span<float>(_array, _offset, Count) : _memory.Span;

    public Span<float> AsSpan(int start, int length)
    {
        if ((uint)start > (uint)Count || (uint)length > (uint)(Count - start))
            throw new ArgumentOutOfRangeException(nameof(start), $"Elements [{start}, {start + length}) lie outside a window of {Count}.");
        return _array is not null ? new Span<float>(_array, _offset + start, length) : _memory.Span.Slice(start, length);
    }

    public static implicit operator Span<float>(HostWindow window) => window.AsSpan();

    public static implicit operator ReadOnlySpan<float>(HostWindow window) => window.AsSpan();
}

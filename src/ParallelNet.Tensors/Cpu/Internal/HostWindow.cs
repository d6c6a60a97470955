namespace ParallelNet.Tensors.Cpu.Internal;

/// <summary>
/// A host tensor's elements as the kernels' thread blocks take them: spans cannot be captured by the closures that
/// run on the threads, so this holds where the elements are (an array window, or a transport's lent memory) and makes
/// a span of a part on each thread. As small as the array segment it replaced: closures are allocated per kernel call.
/// </summary>
internal readonly struct HostWindow(Memory<float> memory)
{
    private readonly Memory<float> _memory = memory;

    public HostWindow(float[] array, int offset, int count) : this(new Memory<float>(array, offset, count))
    {
    }

    public static HostWindow Empty => new(Memory<float>.Empty);

    public int Count => _memory.Length;

    public Span<float> AsSpan() => _memory.Span;

    public Span<float> AsSpan(int start, int length) => _memory.Span.Slice(start, length);

    public static implicit operator Span<float>(HostWindow window) => window.AsSpan();

    public static implicit operator ReadOnlySpan<float>(HostWindow window) => window.AsSpan();
}

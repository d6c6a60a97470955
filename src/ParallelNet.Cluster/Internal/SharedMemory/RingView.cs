using System.Buffers;
using System.Runtime.InteropServices;

namespace ParallelNet.Cluster.Internal.SharedMemory;

/// <summary>
/// float32 values lying in a peer's ring, lent to a recipient that reads them in place. When the stream they came on
/// ends, the sender will reuse their space 5 s later (<see cref="RingSender.ReleaseDelay"/>), so the view then moves
/// its values into a private copy (<see cref="Detach"/>): spans taken from then on read the copy, and a span taken
/// before stays valid for those seconds. The peer's mapping lasts until every view of it is released.
/// </summary>
internal sealed unsafe class RingView : MemoryManager<float>
{
    private readonly PeerRing ring;
    private readonly float* pointer;
    private readonly int length;
    private float[]? copy;

    public RingView(PeerRing ring, float* pointer, int length)
    {
        this.ring = ring;
        this.pointer = pointer;
        this.length = length;
    }

    /// <summary>True once the values moved into a private copy (tests).</summary>
    public bool IsDetached => Volatile.Read(ref copy) is not null;

    public override Span<float> GetSpan() => Volatile.Read(ref copy) is { } detached ? detached : new Span<float>(pointer, length);

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(elementIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(elementIndex, length);
        if (Volatile.Read(ref copy) is not { } detached) return new MemoryHandle(pointer + elementIndex);
        var handle = GCHandle.Alloc(detached, GCHandleType.Pinned);
        return new MemoryHandle((float*)handle.AddrOfPinnedObject() + elementIndex, handle);
    }

    public override void Unpin()
    {
        // The mapping does not move, and a pinned copy's handle travels in its MemoryHandle.
    }

    /// <summary>Copies the values out of the ring; the caller holds the ring's lock, so the mapping is still there.</summary>
    public void Detach()
    {
        if (copy is not null) return;
        var values = GC.AllocateUninitializedArray<float>(length);
        new ReadOnlySpan<float>(pointer, length).CopyTo(values);
        Volatile.Write(ref copy, values);
    }

    /// <summary>The recipient is done with the values.</summary>
    public void Release() => ring.Returned(this);

    protected override void Dispose(bool disposing) => Release();
}

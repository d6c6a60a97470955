using System.Buffers;

namespace ParallelNet.Cluster.Internal.SharedMemory;

/// <summary>
/// Room in the node's ring where a sender computes a tensor before sending it (<see cref="SharedRing.TryReserve"/>).
/// The first message placed in the ring with it adopts the room as its payload's region: no copy. Until then, or if it
/// never is, <see cref="Cancel"/> gives the room back; after adoption the region is the peers' to release, and cancelling
/// does nothing. The sender must not write the values after sending them.
/// </summary>
internal sealed unsafe class ReservedFloats(SharedRing ring, SharedRing.Region region, object owner, float* pointer, int count) : MemoryManager<float>
{
    private const int Reserved = 0, Adopted = 1, Cancelled = 2;
    private int state;

    public SharedRing Ring => ring;

    internal SharedRing.Region Region => region;

    /// <summary>The holder the room is kept for until a message adopts it.</summary>
    internal object Owner => owner;

    public int Count => count;

    public bool IsAdopted => Volatile.Read(ref state) == Adopted;

    internal bool TryAdopt() => Interlocked.CompareExchange(ref state, Adopted, Reserved) == Reserved;

    /// <summary>Gives the room back unless a message took it; later calls do nothing.</summary>
    public void Cancel()
    {
        if (Interlocked.CompareExchange(ref state, Cancelled, Reserved) == Reserved) ring.Cancel(this);
    }

    public override Span<float> GetSpan() => new(pointer, count);

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(elementIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(elementIndex, count);
        return new MemoryHandle(pointer + elementIndex);
    }

    public override void Unpin()
    {
        // The mapping does not move.
    }

    protected override void Dispose(bool disposing) => Cancel();
}

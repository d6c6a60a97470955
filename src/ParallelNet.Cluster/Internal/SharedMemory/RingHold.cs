namespace ParallelNet.Cluster.Internal.SharedMemory;

/// <summary>
/// One message delivered from a peer's ring: the tensors its recipient reads in place (<see cref="Lend"/>) and the
/// release its sender waits for, sent once the message is delivered and every lent tensor is handed back.
/// </summary>
internal sealed class RingHold(PeerRing ring, Action sendRelease)
{
    private readonly List<LentFloats> lent = [];
    // The delivery itself, and one per lent tensor not yet released.
    private int pending = 1;

    /// <summary>The float32 values in <paramref name="bytes"/> (a slice of the ring), lent to the recipient.</summary>
    public LentFloats Lend(ReadOnlyMemory<byte> bytes)
    {
        RingView view = ring.Lend(bytes);
        Interlocked.Increment(ref pending);
        var floats = new LentFloats(view.Memory, () =>
        {
            view.Release();
            Done();
        });
        lent.Add(floats);
        return floats;
    }

    /// <summary>The message reached its recipient (or was dropped): the ring's space goes back once its tensors do.</summary>
    public void Delivered() => Done();

    /// <summary>The message never reached a recipient (it did not decode, or nobody is there): what it lent comes back now.</summary>
    public void Abandon()
    {
        foreach (LentFloats floats in lent) floats.Release();
    }

    private void Done()
    {
        if (Interlocked.Decrement(ref pending) == 0) sendRelease();
    }
}

using ParallelNet.Cluster.Protocol;

namespace ParallelNet.Cluster.Internal.SharedMemory;

/// <summary>The receiving side of a same-host tensor path: a peer's ring, mapped read-only, whose payloads are decoded in place.</summary>
internal sealed class PeerRing : IDisposable
{
    private readonly MappedFile mapped;

    private PeerRing(MappedFile mapped, ulong id, long capacity)
    {
        this.mapped = mapped;
        Id = id;
        Capacity = capacity;
    }

    public ulong Id { get; }

    public long Capacity { get; }

    /// <summary>Maps the ring <paramref name="offer"/> names in <paramref name="directory"/>; null with the reason when it cannot be used.</summary>
    public static PeerRing? TryOpen(string directory, SharedRingOffer offer, out string reason)
    {
        reason = "";
        if (!RingFile.IsRingName(offer.Name))
        {
            reason = "the offered name is not a ring file's name";
            return null;
        }
        if (offer.Capacity is < RingFile.MinCapacity or > RingFile.MaxCapacity)
        {
            reason = $"the offered capacity {offer.Capacity} is outside {RingFile.MinCapacity}-{RingFile.MaxCapacity} bytes";
            return null;
        }
        if (offer.Nonce.Length != RingFile.NonceBytes)
        {
            reason = "the offer's nonce has the wrong length";
            return null;
        }
        string path = Path.Combine(directory, offer.Name);
        MappedFile mapped;
        try
        {
            mapped = MappedFile.OpenReadOnly(path, RingFile.HeaderBytes + (int)offer.Capacity);
        }
        catch (FileNotFoundException)
        {
            reason = $"{path} does not exist here (the peer runs on another host or has a shared-memory directory of its own)";
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            reason = $"{path} cannot be mapped: {e.Message}";
            return null;
        }
        string? problem = RingFile.CheckHeader(mapped.GetSpan()[..RingFile.HeaderBytes], (long)offer.Capacity, offer.Nonce.Span);
        if (problem is not null)
        {
            ((IDisposable)mapped).Dispose();
            reason = $"{path}: {problem}";
            return null;
        }
        return new PeerRing(mapped, offer.Ring, (long)offer.Capacity);
    }

    /// <summary>
    /// The <paramref name="length"/> bytes at <paramref name="position"/>, valid until the ring is released past them
    /// (the caller decodes them before it says so) or disposed; false with the problem when they lie outside the ring.
    /// </summary>
    public bool TrySlice(ulong position, ulong length, out ReadOnlyMemory<byte> bytes, out string? problem)
    {
        bytes = default;
        problem = null;
        ulong offset = position % (ulong)Capacity;
        if (length == 0 || length > (ulong)Capacity || offset + length > (ulong)Capacity)
        {
            problem = $"a shared payload of {length} bytes at ring offset {offset} does not fit the ring's {Capacity} bytes";
            return false;
        }
        bytes = mapped.Memory.Slice(RingFile.HeaderBytes + (int)offset, (int)length);
        return true;
    }

    public void Dispose() => ((IDisposable)mapped).Dispose();
}

using ParallelNet.Cluster.Protocol;

namespace ParallelNet.Cluster.Internal.SharedMemory;

/// <summary>
/// The receiving side of a same-host tensor path: a peer's ring, mapped read-only, whose payloads are decoded in place
/// and whose tensors may be lent to their recipients as <see cref="RingView"/>s. Disposed when its stream ends: the
/// views left then move into copies of their own, and the mapping goes once the last of them is released.
/// </summary>
internal sealed unsafe class PeerRing : IDisposable
{
    private readonly MappedFile mapped;
    private readonly Lock gate = new();
    private readonly HashSet<RingView> views = [];
    private bool ended;

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

    /// <summary>Views lent and not yet released (tests).</summary>
    public int LentViews
    {
        get { lock (gate) return views.Count; }
    }

    /// <summary>
    /// A view of <paramref name="bytes"/>, a slice of this ring's memory (from <see cref="TrySlice"/>) holding whole float32
    /// values, for a recipient to read in place until it releases the view.
    /// </summary>
    public RingView Lend(ReadOnlyMemory<byte> bytes)
    {
        if (bytes.Length % sizeof(float) != 0) throw new ArgumentException($"{bytes.Length} bytes are not whole float32 values.", nameof(bytes));
        using var pin = bytes.Pin();
        var view = new RingView(this, (float*)pin.Pointer, bytes.Length / sizeof(float));
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(ended, this);
            views.Add(view);
        }
        return view;
    }

    /// <summary>A view's recipient is done with it; the last one of an ended stream's ring unmaps it.</summary>
    internal void Returned(RingView view)
    {
        lock (gate)
        {
            if (!views.Remove(view) || !ended || views.Count > 0) return;
        }
        ((IDisposable)mapped).Dispose();
    }

    /// <summary>The stream ended: lent views move into copies (their sender will reuse the space), and the mapping goes once none is lent.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            if (ended) return;
            ended = true;
            foreach (RingView view in views) view.Detach();
            if (views.Count > 0) return;
        }
        ((IDisposable)mapped).Dispose();
    }
}

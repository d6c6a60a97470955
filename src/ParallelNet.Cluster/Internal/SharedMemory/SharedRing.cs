using System.Security.Cryptography;

namespace ParallelNet.Cluster.Internal.SharedMemory;

/// <summary>
/// The sending side of a same-host tensor path: a ring file this node writes payloads into and one peer maps
/// read-only. Space is counted in an endless byte position; a payload takes [position, position + length) at offset
/// position % capacity and never wraps (the end of the data is skipped instead), and comes back when the peer
/// releases a position past it. One writer (the peer's send loop) allocates; releases may come from any thread.
/// </summary>
internal sealed class SharedRing : IDisposable
{
    private const int Alignment = 64;

    private readonly MappedFile mapped;
    private readonly string path;
    private ulong head;
    private ulong tail;
    private int unlinked;

    private SharedRing(MappedFile mapped, string path, ulong id, long capacity, byte[] nonce)
    {
        this.mapped = mapped;
        this.path = path;
        Id = id;
        Capacity = capacity;
        Nonce = nonce;
    }

    public ulong Id { get; }

    public string Name => Path.GetFileName(path);

    public long Capacity { get; }

    public byte[] Nonce { get; }

    /// <summary>Payloads written so far (tests).</summary>
    public long PayloadsWritten { get; private set; }

    /// <summary>Bytes written and not yet released (tests).</summary>
    public long InUse => (long)(head - Volatile.Read(ref tail));

    /// <summary>Creates a ring of <paramref name="capacity"/> data bytes in <paramref name="directory"/>; IOException when it cannot.</summary>
    public static SharedRing Create(string directory, long capacity)
    {
        if (capacity is < RingFile.MinCapacity or > RingFile.MaxCapacity || capacity % Alignment != 0)
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, $"A ring holds {RingFile.MinCapacity}-{RingFile.MaxCapacity} bytes, a multiple of {Alignment}.");
        ulong id = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(sizeof(ulong)));
        string path = Path.Combine(directory, RingFile.NewName(id));
        var mapped = MappedFile.Create(path, checked(RingFile.HeaderBytes + (int)capacity));
        byte[] nonce = RingFile.NewNonce();
        RingFile.WriteHeader(mapped.GetSpan()[..RingFile.HeaderBytes], capacity, nonce);
        return new SharedRing(mapped, path, id, capacity, nonce);
    }

    /// <summary>
    /// Copies the concatenated <paramref name="payload"/> (<paramref name="length"/> bytes) into the ring; false, with
    /// nothing written, when the free space cannot hold it in one piece.
    /// </summary>
    public bool TryWrite(IReadOnlyList<ReadOnlyMemory<byte>> payload, long length, out ulong position)
    {
        position = 0;
        if (length <= 0 || length > Capacity) return false;
        ulong start = head;
        long offset = (long)(start % (ulong)Capacity);
        // Skip to the data's start rather than wrap; and also whenever the peer has released everything, so that a
        // sender with one payload in flight at a time (a training step) writes the same cache-warm bytes every time.
        if (offset != 0 && start == Volatile.Read(ref tail))
        {
            // Empty: no release can move the tail any more (none lies past the head), so it moves along with the skip.
            start += (ulong)(Capacity - offset);
            Interlocked.CompareExchange(ref tail, start, head);
        }
        else if (offset + length > Capacity) start += (ulong)(Capacity - offset);
        ulong end = start + (ulong)AlignUp(length);
        if (end - Volatile.Read(ref tail) > (ulong)Capacity) return false;
        Span<byte> target = mapped.GetSpan().Slice(RingFile.HeaderBytes + (int)(start % (ulong)Capacity), (int)length);
        foreach (ReadOnlyMemory<byte> segment in payload)
        {
            segment.Span.CopyTo(target);
            target = target[segment.Length..];
        }
        head = end;
        position = start;
        PayloadsWritten++;
        return true;
    }

    /// <summary>The peer decoded everything before <paramref name="position"/>. Ignored when it is behind what was released or past what was written.</summary>
    public void Release(ulong position)
    {
        if (position > ulong.MaxValue - Alignment) return;
        position = (ulong)AlignUp((long)position); // payloads start aligned; the peer names a payload's unpadded end
        ulong current = Volatile.Read(ref tail);
        while (position > current && position <= Volatile.Read(ref head))
        {
            ulong seen = Interlocked.CompareExchange(ref tail, position, current);
            if (seen == current) return;
            current = seen;
        }
    }

    /// <summary>Removes the ring's name once the peer mapped it: the memory lives on in both mappings, and no file outlives the processes.</summary>
    public void Unlink()
    {
        if (Interlocked.Exchange(ref unlinked, 1) != 0) return;
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Already gone (a sweep by another node): nothing to remove.
        }
    }

    private static long AlignUp(long length) => (long)(((ulong)length + Alignment - 1) & ~(ulong)(Alignment - 1));

    public void Dispose()
    {
        Unlink();
        ((IDisposable)mapped).Dispose();
    }
}

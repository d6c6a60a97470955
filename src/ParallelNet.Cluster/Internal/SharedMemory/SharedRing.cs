using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace ParallelNet.Cluster.Internal.SharedMemory;

/// <summary>
/// The sending side of the same-host path: one ring file per node, which every same-host peer maps read-only. A
/// payload takes a region [position, position + length) of an endless byte count, at offset position % capacity,
/// never wrapping (the end of the data is skipped instead). A region is held by the peers it was sent to and comes
/// back when each has released it; a message sent to several peers (a weights broadcast) is copied once and its region
/// shared until one of those sends completes. Several threads place payloads at once: regions are handed out under a
/// lock and filled outside it.
/// </summary>
internal sealed unsafe class SharedRing : IDisposable
{
    private const int Alignment = 64;

    /// <summary>Regions kept findable for sharing: a broadcast reaches its peers' send loops within a few messages.</summary>
    private const int ShareableRegions = 8;

    private readonly MappedFile mapped;
    private readonly string path;
    private readonly Lock gate = new();
    private readonly LinkedList<Region> regions = new(); // held ones, in position order
    private ulong head;
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

    /// <summary>Payloads copied into the ring so far (tests).</summary>
    public long PayloadsWritten { get; private set; }

    /// <summary>Payloads sent to a further peer without a copy (tests).</summary>
    public long PayloadsShared { get; private set; }

    /// <summary>Payloads whose tensor was written in the ring by its sender (<see cref="TryReserve"/>), sent without copying it (tests).</summary>
    public long PayloadsAdopted { get; private set; }

    /// <summary>Room a reservation keeps before and after its tensor for the fields its message writes around it.</summary>
    public const int ReservationSlack = 1024;

    /// <summary>Bytes from the oldest held region to the head; 0 when every region has been released (tests).</summary>
    public long InUse
    {
        get { lock (gate) return (long)(head - Tail()); }
    }

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
    /// Places a payload of <paramref name="length"/> bytes for <paramref name="holder"/>: in the region of an earlier
    /// copy of the same message (<paramref name="key"/>) that no send has completed yet (so its sender cannot have
    /// changed the bytes since), else in a new region filled from <paramref name="payload"/>. Null when the free space
    /// cannot hold it in one piece. A shared region may still be filling on another thread: see <see cref="Placement.Filled"/>.
    /// </summary>
    public Placement? TryPlace(object holder, IReadOnlyList<ReadOnlyMemory<byte>> payload, long length, object? key = null)
    {
        if (length <= 0 || length > Capacity) return null;
        if (TryAdopt(holder, payload, length, key) is { } adopted) return adopted;
        Region region;
        lock (gate)
        {
            if (key is not null && FindShareable(key, length) is { } shared)
            {
                shared.Holders.Add(holder);
                PayloadsShared++;
                return new Placement(this, shared, holder);
            }
            if (Allocate(length) is not ulong start) return null;
            region = new Region(start, start + (ulong)AlignUp(length), length, key, holder);
            regions.AddLast(region);
            head = region.End;
            PayloadsWritten++;
        }
        Span<byte> target = mapped.GetSpan().Slice(RingFile.HeaderBytes + (int)(region.Start % (ulong)Capacity), (int)length);
        foreach (ReadOnlyMemory<byte> segment in payload)
        {
            segment.Span.CopyTo(target);
            target = target[segment.Length..];
        }
        region.Filled.TrySetResult();
        return new Placement(this, region, holder);
    }

    /// <summary>
    /// Room for a tensor of <paramref name="count"/> floats that its sender computes straight into the ring: a message
    /// that carries it, placed in this ring, is then sent without copying it (its fields are written into the room left
    /// around it, <see cref="ReservationSlack"/> bytes each side). Null when the ring has no room.
    /// </summary>
    public ReservedFloats? TryReserve(int count)
    {
        long tensorBytes = AlignUp((long)count * sizeof(float));
        long length = ReservationSlack + tensorBytes + ReservationSlack;
        if (count <= 0 || length > Capacity / 2) return null;
        var owner = new object();
        Region region;
        lock (gate)
        {
            if (Allocate(length) is not ulong start) return null;
            region = new Region(start, start + (ulong)AlignUp(length), length, null, owner);
            regions.AddLast(region);
            head = region.End;
        }
        byte* tensor = (byte*)mapped.Pin(RingFile.HeaderBytes + (int)(region.Start % (ulong)Capacity) + ReservationSlack).Pointer;
        return new ReservedFloats(this, region, owner, (float*)tensor, count);
    }

    /// <summary>
    /// A payload whose one large piece is a tensor reserved in this ring and not sent yet: its other pieces are written
    /// around it, and its region becomes the payload's. Null when the payload holds no such tensor, or its other pieces
    /// do not fit the room left around it (the caller then copies it as any payload).
    /// </summary>
    private Placement? TryAdopt(object holder, IReadOnlyList<ReadOnlyMemory<byte>> payload, long length, object? key)
    {
        int index = -1;
        ReservedFloats? reserved = null;
        for (int i = 0; i < payload.Count && index < 0; i++)
        {
            if (TensorBytes.TryGetFloats(payload[i], out Memory<float> floats)
                && MemoryMarshal.TryGetMemoryManager<float, ReservedFloats>(floats, out ReservedFloats? candidate, out int start, out int count)
                && candidate.Ring == this && start == 0 && count == candidate.Count)
            {
                (index, reserved) = (i, candidate);
            }
        }
        if (reserved is null || index < 0) return null;
        long before = 0;
        for (int i = 0; i < index; i++) before += payload[i].Length;
        long after = length - before - payload[index].Length;
        if (before > ReservationSlack || after > ReservationSlack || !reserved.TryAdopt()) return null;
        Region region = reserved.Region;
        ulong tensorPosition = region.Start + ReservationSlack;
        lock (gate)
        {
            region.Start = tensorPosition - (ulong)before;
            region.Length = length;
            region.Key = key;
            region.Holders.Remove(reserved.Owner);
            region.Holders.Add(holder);
            PayloadsAdopted++;
        }
        Span<byte> data = mapped.GetSpan();
        int offset = RingFile.HeaderBytes + (int)(region.Start % (ulong)Capacity);
        for (int i = 0; i < payload.Count; i++)
        {
            if (i != index) payload[i].Span.CopyTo(data.Slice(offset, payload[i].Length));
            offset += payload[i].Length;
        }
        region.Filled.TrySetResult();
        return new Placement(this, region, holder);
    }

    /// <summary>A reservation its sender will not send: its room comes back.</summary>
    internal void Cancel(ReservedFloats reserved)
    {
        reserved.Region.Filled.TrySetResult();
        lock (gate)
        {
            reserved.Region.Holders.Remove(reserved.Owner);
            TrimReleased();
        }
    }

    /// <summary>
    /// <paramref name="holder"/> has decoded the payload at <paramref name="position"/>. Ignored unless it holds that
    /// region: a peer cannot free what another peer still reads.
    /// </summary>
    public void Release(object holder, ulong position)
    {
        lock (gate)
        {
            for (LinkedListNode<Region>? node = regions.First; node is not null; node = node.Next)
            {
                if (node.Value.Start != position) continue;
                node.Value.Holders.Remove(holder);
                break;
            }
            TrimReleased();
        }
    }

    /// <summary><paramref name="holder"/> will release nothing more (its stream ended): what it held comes back.</summary>
    public void ReleaseAll(object holder)
    {
        lock (gate)
        {
            foreach (Region region in regions) region.Holders.Remove(holder);
            TrimReleased();
        }
    }

    private Region? FindShareable(object key, long length)
    {
        int looked = 0;
        for (LinkedListNode<Region>? node = regions.Last; node is not null && looked < ShareableRegions; node = node.Previous, looked++)
        {
            Region region = node.Value;
            if (ReferenceEquals(region.Key, key) && region.Length == length && region.Holders.Count > 0 && !region.Sealed) return region;
        }
        return null;
    }

    /// <summary>The start of a free region of <paramref name="length"/> bytes, or null. Call under the lock.</summary>
    private ulong? Allocate(long length)
    {
        ulong start = head;
        long offset = (long)(start % (ulong)Capacity);
        // Skip to the data's start rather than wrap; and also whenever every region has come back, so that a sender with
        // one payload in flight at a time (a training step) writes the same cache-warm bytes every time.
        if (offset != 0 && (regions.Count == 0 || offset + length > Capacity)) start += (ulong)(Capacity - offset);
        ulong end = start + (ulong)AlignUp(length);
        ulong tail = regions.Count == 0 ? start : Tail();
        return end - tail > (ulong)Capacity ? null : start;
    }

    /// <summary>The oldest position still held; the head when none is. Call under the lock.</summary>
    private ulong Tail() => regions.First?.Value.Start ?? head;

    private void TrimReleased()
    {
        while (regions.First is { Value.Holders.Count: 0 } first && first.Value.Filled.Task.IsCompleted) regions.RemoveFirst();
    }

    /// <summary>Removes the ring's name: peers that mapped it keep their mappings; no later peer can map it.</summary>
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

    private void Seal(Region region)
    {
        lock (gate) region.Sealed = true;
    }

    internal sealed class Region(ulong start, ulong end, long length, object? key, object holder)
    {
        /// <summary>Where the payload begins; a reservation's moves forward, within it, to where its message's fields start.</summary>
        public ulong Start { get; set; } = start;
        public ulong End { get; } = end;
        public long Length { get; set; } = length;
        public object? Key { get; set; } = key;
        /// <summary>A send of the region's message has completed: its sender may change the bytes from now on, so no new send shares them.</summary>
        public bool Sealed { get; set; }
        public List<object> Holders { get; } = [holder];
        public TaskCompletionSource Filled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>One holder's place in a region: where the payload lies, and what ends the send that put it there.</summary>
    public sealed class Placement
    {
        private readonly SharedRing ring;
        private readonly Region region;
        private readonly object holder;

        internal Placement(SharedRing ring, Region region, object holder)
        {
            this.ring = ring;
            this.region = region;
            this.holder = holder;
        }

        public ulong Position => region.Start;

        /// <summary>Completes once the payload's bytes are in the region.</summary>
        public Task Filled => region.Filled.Task;

        /// <summary>The send completed: later sends of the same message get a copy of their own.</summary>
        public void Seal() => ring.Seal(region);

        /// <summary>The payload will never reach the holder (dropped before it was written): its hold ends now.</summary>
        public void Release() => ring.Release(holder, region.Start);
    }
}

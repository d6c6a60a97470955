using System.Runtime.InteropServices;
using Google.Protobuf;
using ParallelNet.Cluster.Internal.SharedMemory;
using ParallelNet.Cluster.Protocol;
using ParallelNet.Cluster.Tests.Support;

namespace ParallelNet.Cluster.Tests.SharedMemory;

/// <summary>The ring a sender writes large payloads into and the read-only view its same-host peer decodes them from.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SharedRingTests : IDisposable
{
    private const long Capacity = RingFile.MinCapacity; // 1 MiB
    private readonly RingDirectory directory = new();

    public void Dispose() => directory.Dispose();

    private static SharedRingOffer OfferOf(SharedRing ring) =>
        new() { Ring = ring.Id, Name = ring.Name, Nonce = ByteString.CopyFrom(ring.Nonce), Capacity = (ulong)ring.Capacity };

    private static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static readonly object Peer = new(), OtherPeer = new();

    private static ulong Place(SharedRing ring, byte[] payload, object? holder = null, object? key = null) => PlaceFor(ring, payload, holder, key).Position;

    private static SharedRing.Placement PlaceFor(SharedRing ring, byte[] payload, object? holder = null, object? key = null)
    {
        SharedRing.Placement? placed = ring.TryPlace(holder ?? Peer, [payload], payload.Length, key);
        Assert.True(placed is not null, "the ring had no room");
        Assert.True(placed.Filled.IsCompleted);
        return placed;
    }

    [Fact]
    public void A_payload_written_in_pieces_is_read_back_whole_from_the_peers_mapping()
    {
        using var ring = SharedRing.Create(directory.Path, Capacity);
        using var peer = PeerRing.TryOpen(directory.Path, OfferOf(ring), out string reason);
        Assert.True(peer is not null, reason);
        byte[] head = Pattern(37, 1), tensor = Pattern(300_001, 2);

        var placed = ring.TryPlace(Peer, [head, tensor], head.Length + tensor.Length);

        Assert.NotNull(placed);
        Assert.True(peer.TrySlice(placed.Position, (ulong)(head.Length + tensor.Length), out ReadOnlyMemory<byte> bytes, out string? problem), problem);
        Assert.Equal(head.Concat(tensor).ToArray(), bytes.ToArray());
    }

    [Fact]
    public void A_lent_view_reads_the_ring_in_place_moves_into_a_copy_when_its_stream_ends_and_keeps_the_mapping_until_released()
    {
        using var ring = SharedRing.Create(directory.Path, Capacity);
        var peer = PeerRing.TryOpen(directory.Path, OfferOf(ring), out _)!;
        float[] values = [.. Enumerable.Range(0, 10_000).Select(i => i * 0.5f)];
        byte[] bytes = MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
        var placed = PlaceFor(ring, bytes);
        Assert.True(peer.TrySlice(placed.Position, (ulong)bytes.Length, out ReadOnlyMemory<byte> slice, out _));

        RingView view = peer.Lend(slice);
        ReadOnlyMemory<float> lent = view.Memory;
        Assert.Equal(values, lent.ToArray());
        Assert.False(MemoryMarshal.TryGetArray(lent, out _)); // the ring itself, no copy
        Assert.Equal(1, peer.LentViews);
        Assert.Throws<ArgumentException>(() => peer.Lend(slice[..7]));

        peer.Dispose(); // the stream ended: the sender will reuse the space
        Assert.True(view.IsDetached);
        ring.TryPlace(new object(), [new byte[bytes.Length]], bytes.Length); // overwritten later: the view reads its copy
        placed.Release();
        PlaceFor(ring, new byte[bytes.Length]);
        Assert.Equal(values, lent.ToArray());
        Assert.Throws<ObjectDisposedException>(() => peer.Lend(slice));

        view.Release();
        view.Release();
        Assert.Equal(0, peer.LentViews);
    }

    [Fact]
    public void Space_comes_back_only_when_released_and_a_payload_never_wraps_past_the_end()
    {
        using var ring = SharedRing.Create(directory.Path, Capacity);
        byte[] payload = Pattern(400_000, 3); // two fit in 1 MiB, a third would run past the end
        ulong first = Place(ring, payload);
        ulong second = Place(ring, payload);
        Assert.Equal(0UL, first);
        Assert.Equal(400_000UL, second); // 64-byte aligned already

        Assert.Null(ring.TryPlace(Peer, [payload], payload.Length)); // would have to go at the start, still in use
        ring.Release(Peer, first);
        ulong third = Place(ring, payload);
        Assert.Equal((ulong)Capacity, third); // the end was skipped: offset 0 of the next lap
        Assert.Equal((long)(third + 400_000 - second), ring.InUse);

        Assert.Null(ring.TryPlace(Peer, [new byte[Capacity + 1]], Capacity + 1));
    }

    [Fact]
    public void Once_everything_is_released_the_next_payload_starts_at_the_beginning_again()
    {
        using var ring = SharedRing.Create(directory.Path, Capacity);
        byte[] small = Pattern(1000, 6), large = Pattern(900_000, 7);
        ulong first = Place(ring, small);
        ring.Release(Peer, first);

        // Empty again: the payload goes to offset 0 of the next lap (cache-warm), even one longer than the space behind the old head.
        ulong second = Place(ring, large);
        Assert.Equal((ulong)Capacity, second);
        Assert.Equal(900_032, ring.InUse);
        ring.Release(Peer, first); // late and stale: ignored
        Assert.Equal(900_032, ring.InUse);
        ring.Release(Peer, second);
        Assert.Equal(0, ring.InUse);
        Assert.Equal(2UL * (ulong)Capacity, Place(ring, large));
    }

    [Fact]
    public void A_release_of_a_region_the_peer_does_not_hold_is_ignored()
    {
        using var ring = SharedRing.Create(directory.Path, Capacity);
        ulong position = Place(ring, Pattern(1000, 4));
        long inUse = ring.InUse;

        ring.Release(OtherPeer, position);
        ring.Release(Peer, position + 64);
        ring.Release(Peer, ulong.MaxValue);
        Assert.Equal(inUse, ring.InUse);
        ring.Release(Peer, position);
        Assert.Equal(0, ring.InUse);
        ring.Release(Peer, position);
        Assert.Equal(0, ring.InUse);
    }

    [Fact]
    public void A_message_sent_to_several_peers_is_copied_once_and_held_until_every_peer_released_it()
    {
        using var ring = SharedRing.Create(directory.Path, Capacity);
        var message = new object();
        byte[] payload = Pattern(200_000, 8);
        ulong first = Place(ring, payload, Peer, message);
        ulong shared = Place(ring, payload, OtherPeer, message);
        Assert.Equal(first, shared);
        Assert.Equal(1, ring.PayloadsWritten);
        Assert.Equal(1, ring.PayloadsShared);

        ring.Release(Peer, first);
        Assert.Equal(200_000, ring.InUse); // the other peer still reads it
        ring.Release(OtherPeer, shared);
        Assert.Equal(0, ring.InUse);
    }

    [Fact]
    public void Once_a_send_of_the_message_completed_or_for_another_message_or_length_a_payload_gets_a_copy_of_its_own()
    {
        using var ring = SharedRing.Create(directory.Path, Capacity);
        var message = new object();
        byte[] payload = Pattern(200_000, 9);
        SharedRing.Placement first = PlaceFor(ring, payload, Peer, message);

        Assert.NotEqual(first.Position, Place(ring, payload, OtherPeer, new object()));
        Assert.NotEqual(first.Position, Place(ring, Pattern(100, 1), OtherPeer, message));
        first.Seal(); // its sender may change the array from now on
        Assert.NotEqual(first.Position, Place(ring, payload, OtherPeer, message));
        Assert.Equal(4, ring.PayloadsWritten);
        Assert.Equal(0, ring.PayloadsShared);
    }

    [Fact]
    public void A_region_every_holder_released_is_never_shared_and_a_dropped_placement_ends_its_hold()
    {
        using var ring = SharedRing.Create(directory.Path, Capacity);
        var message = new object();
        byte[] payload = Pattern(200_000, 13);
        SharedRing.Placement first = PlaceFor(ring, payload, Peer, message);
        first.Release();
        Assert.Equal(0, ring.InUse);
        Assert.NotEqual(first.Position, Place(ring, payload, OtherPeer, message));
        Assert.Equal(0, ring.PayloadsShared);
    }

    [Fact]
    public void What_a_peer_held_comes_back_when_it_releases_all()
    {
        using var ring = SharedRing.Create(directory.Path, Capacity);
        Place(ring, Pattern(1000, 10), Peer);
        ulong other = Place(ring, Pattern(1000, 11), OtherPeer);
        Place(ring, Pattern(1000, 12), Peer);

        ring.ReleaseAll(Peer);
        Assert.Equal(1024 + 1024, ring.InUse); // from the other peer's region to the head
        ring.Release(OtherPeer, other);
        Assert.Equal(0, ring.InUse);
    }

    [Fact]
    public void The_file_is_only_readable_by_its_owner_and_loses_its_name_on_unlink_while_both_mappings_stay_valid()
    {
        using var ring = SharedRing.Create(directory.Path, Capacity);
        string path = Path.Combine(directory.Path, ring.Name);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        using var peer = PeerRing.TryOpen(directory.Path, OfferOf(ring), out _)!;

        ring.Unlink();
        Assert.Empty(directory.Rings);
        byte[] payload = Pattern(5000, 5);
        ulong position = Place(ring, payload);
        Assert.True(peer.TrySlice(position, (ulong)payload.Length, out ReadOnlyMemory<byte> bytes, out _));
        Assert.Equal(payload, bytes.ToArray());
    }

    [Fact]
    public void Offers_that_name_other_files_or_do_not_match_the_file_are_refused_with_a_reason()
    {
        using var ring = SharedRing.Create(directory.Path, Capacity);
        SharedRingOffer good = OfferOf(ring);

        void Refused(SharedRingOffer offer, string expected)
        {
            Assert.Null(PeerRing.TryOpen(directory.Path, offer, out string reason));
            Assert.Contains(expected, reason);
        }

        Refused(new SharedRingOffer(good) { Name = "../../etc/passwd" }, "not a ring file's name");
        Refused(new SharedRingOffer(good) { Name = "parallelnet-1-zzzzzzzzzzzzzzzz.ring" }, "not a ring file's name");
        Refused(new SharedRingOffer(good) { Name = "parallelnet-1-0123456789abcdef.ring" }, "does not exist here");
        Refused(new SharedRingOffer(good) { Capacity = 1UL << 40 }, "outside");
        Refused(new SharedRingOffer(good) { Capacity = (ulong)Capacity * 2 }, "not the");
        Refused(new SharedRingOffer(good) { Nonce = ByteString.CopyFrom(new byte[RingFile.NonceBytes]) }, "nonce differs");
        Refused(new SharedRingOffer(good) { Nonce = ByteString.CopyFrom(new byte[3]) }, "nonce has the wrong length");
        Assert.Null(PeerRing.TryOpen(Path.Combine(directory.Path, "elsewhere"), good, out _));

        string path = Path.Combine(directory.Path, ring.Name);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        Refused(good, "not 600");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        string link = Path.Combine(directory.Path, "parallelnet-1-00000000000000aa.ring");
        File.CreateSymbolicLink(link, path);
        Refused(new SharedRingOffer(good) { Name = Path.GetFileName(link) }, "symbolic link");
    }

    [Fact]
    public void A_slice_outside_the_ring_is_refused()
    {
        using var ring = SharedRing.Create(directory.Path, Capacity);
        using var peer = PeerRing.TryOpen(directory.Path, OfferOf(ring), out _)!;
        Assert.True(peer.TrySlice((ulong)Capacity * 5 + 10, 100, out _, out _));
        Assert.False(peer.TrySlice((ulong)Capacity - 10, 11, out _, out string? across));
        Assert.Contains("does not fit", across);
        Assert.False(peer.TrySlice(0, 0, out _, out _));
        Assert.False(peer.TrySlice(0, (ulong)Capacity + 1, out _, out _));
        Assert.False(peer.TrySlice(ulong.MaxValue, ulong.MaxValue, out _, out _));
    }

    [Fact]
    public void Rings_of_processes_that_no_longer_run_are_removed_and_live_ones_kept()
    {
        string dead = Path.Combine(directory.Path, $"parallelnet-{int.MaxValue}-0123456789abcdef.ring");
        string other = Path.Combine(directory.Path, "not-a-ring.ring");
        File.WriteAllBytes(dead, [1]);
        File.WriteAllBytes(other, [1]);
        using var live = SharedRing.Create(directory.Path, Capacity);

        Assert.Equal(1, RingFile.RemoveOrphans(directory.Path));

        Assert.False(File.Exists(dead));
        Assert.True(File.Exists(other));
        Assert.True(File.Exists(Path.Combine(directory.Path, live.Name)));
    }
}

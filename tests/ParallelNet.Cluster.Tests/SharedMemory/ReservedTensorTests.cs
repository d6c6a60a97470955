using System.Runtime.InteropServices;
using Google.Protobuf;
using ParallelNet.Actors;
using ParallelNet.Cluster.Internal.SharedMemory;
using ParallelNet.Cluster.Protocol;
using ParallelNet.Cluster.Tests.Support;

namespace ParallelNet.Cluster.Tests.SharedMemory;

/// <summary>
/// A tensor its sender computes straight into the ring (a reservation) leaves without a copy: the message's other
/// fields are written around it, and the peer reads an ordinary payload; a reservation not taken comes back on cancel.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ReservedTensorTests : IDisposable
{
    private readonly RingDirectory directory = new();
    private static readonly object Peer = new();

    public void Dispose() => directory.Dispose();

    private static SharedRingOffer OfferOf(SharedRing ring) =>
        new() { Ring = ring.Id, Name = ring.Name, Nonce = ByteString.CopyFrom(ring.Nonce), Capacity = (ulong)ring.Capacity };

    /// <summary>A payload as a codec writes it: fields, the tensor (referenced, not copied), more fields.</summary>
    private static List<ReadOnlyMemory<byte>> PayloadOf(Memory<float> tensor, int headBytes = 100, int trailerBytes = 24)
    {
        var writer = new PayloadWriter(new NoReferences());
        writer.WriteBytes(new byte[headBytes - 4 >= 0 ? headBytes - 4 : 0].Select((_, i) => (byte)i).ToArray());
        writer.WriteFloats(tensor);
        writer.WriteBytes(Enumerable.Range(0, trailerBytes).Select(i => (byte)(255 - i)).ToArray());
        return writer.Finish();
    }

    private static byte[] Joined(List<ReadOnlyMemory<byte>> payload) => [.. payload.SelectMany(p => p.ToArray())];

    [Fact]
    public void A_reserved_tensor_is_sent_in_place_with_its_fields_around_it_and_its_room_comes_back_when_the_peer_releases_it()
    {
        using var ring = SharedRing.Create(directory.Path, RingFile.MinCapacity);
        using var peer = PeerRing.TryOpen(directory.Path, OfferOf(ring), out _)!;
        ReservedFloats reserved = ring.TryReserve(50_000)!;
        Span<float> values = reserved.Memory.Span;
        for (int i = 0; i < values.Length; i++) values[i] = i * 0.25f;
        var payload = PayloadOf(reserved.Memory);
        long length = payload.Sum(p => (long)p.Length);

        var placement = ring.TryPlace(Peer, payload, length)!;

        Assert.True(reserved.IsAdopted);
        Assert.Equal(1, ring.PayloadsAdopted);
        Assert.Equal(0, ring.PayloadsWritten); // no copy of the tensor
        Assert.Equal(0, (long)(placement.Position % 64));
        Assert.True(peer.TrySlice(placement.Position, (ulong)length, out ReadOnlyMemory<byte> received, out _));
        Assert.Equal(Joined(PayloadOf(reserved.Memory.ToArray())), received.ToArray());
        reserved.Cancel(); // the message took it: nothing to give back
        Assert.NotEqual(0, ring.InUse);
        ring.Release(Peer, placement.Position);
        Assert.Equal(0, ring.InUse);
    }

    [Fact]
    public void A_reservation_not_taken_comes_back_on_cancel_and_fields_larger_than_its_room_are_copied_instead()
    {
        using var ring = SharedRing.Create(directory.Path, RingFile.MinCapacity);
        ReservedFloats unused = ring.TryReserve(10_000)!;
        Assert.NotEqual(0, ring.InUse);
        unused.Cancel();
        unused.Cancel();
        Assert.Equal(0, ring.InUse);

        ReservedFloats reserved = ring.TryReserve(10_000)!;
        var payload = PayloadOf(reserved.Memory, headBytes: SharedRing.ReservationSlack + 100);
        var placement = ring.TryPlace(Peer, payload, payload.Sum(p => (long)p.Length))!;
        Assert.False(reserved.IsAdopted);
        Assert.Equal(1, ring.PayloadsWritten);
        ring.Release(Peer, placement.Position);
        Assert.NotEqual(0, ring.InUse); // the reservation still holds its room
        reserved.Cancel();
        Assert.Equal(0, ring.InUse);

        // A part of a reservation is not the tensor it was made for: copied.
        ReservedFloats partly = ring.TryReserve(10_000)!;
        var part = PayloadOf(partly.Memory[..5_000]);
        ring.Release(Peer, ring.TryPlace(Peer, part, part.Sum(p => (long)p.Length))!.Position);
        Assert.False(partly.IsAdopted);
        partly.Cancel();
        Assert.Equal(0, ring.InUse);
        Assert.Null(ring.TryReserve((int)(RingFile.MinCapacity / 4))); // over half the ring
    }

    private sealed record Reserved(Memory<float> Values);

    private sealed record Arrived(float[] Values);

    [Fact]
    public async Task A_node_reserves_room_for_a_tensor_to_a_same_host_peer_and_the_message_leaves_without_a_copy()
    {
        var logs = new LogCollector();
        ClusterNode[] nodes = await Nodes.StartClusterAsync(2, "reserve", logs, options =>
        {
            options.SharedMemoryDirectory = directory.Path;
            options.SharedMemoryRingBytes = 1L << 20;
            options.Serializers.RegisterReceivedAs<Reserved, Arrived>("test.Reserved", (w, m) => { w.WriteString("head"); w.WriteFloats(m.Values); w.WriteInt32(7); },
                r => { r.ReadString(); var values = r.ReadFloats(); Assert.Equal(7, r.ReadInt32()); return new Arrived(values); }, sent: null);
        });
        try
        {
            var (_, received) = Inbox.Create(nodes[1].System, "inbox");
            IActorRef inbox = nodes[0].ActorRefFor(nodes[1].SelfAddress, "/user/inbox");
            Assert.Null(nodes[0].TryReserveTensor(inbox, 1000)); // no ring accepted yet: use an array
            Assert.Null(nodes[0].TryReserveTensor(Inbox.Create(nodes[0].System, "local").Actor, 1000));

            inbox.Tell(new Reserved(new float[100_000])); // the first large message offers the ring
            await received.NextAsync();
            await Nodes.WaitUntilAsync(() => nodes[0].RingTo(nodes[1].SelfAddress) is not null && logs.Contains("go through shared memory"), "the peer accepted the ring");
            SharedRing ring = nodes[0].OutgoingRing!;
            await Nodes.WaitUntilAsync(() => ring.InUse == 0, "the first payload came back");

            ReservedTensor room = nodes[0].TryReserveTensor(inbox, 100_000)!;
            float[] expected = [.. Enumerable.Range(0, 100_000).Select(i => i * -0.5f)];
            expected.CopyTo(room.Values);
            inbox.Tell(new Reserved(room.Values));
            var arrived = Assert.IsType<Arrived>((await received.NextAsync()).Message);
            Assert.Equal(expected, arrived.Values);
            Assert.True(room.IsAdopted);
            Assert.Equal(1, ring.PayloadsAdopted);
            room.Cancel();
            await Nodes.WaitUntilAsync(() => ring.InUse == 0, "the receiver released the adopted payload");
        }
        finally
        {
            await Nodes.DisposeAllAsync(nodes);
        }
    }
}

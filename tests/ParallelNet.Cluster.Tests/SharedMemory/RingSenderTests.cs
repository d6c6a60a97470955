using Microsoft.Extensions.Logging.Abstractions;
using ParallelNet.Actors;
using ParallelNet.Cluster.Internal;
using ParallelNet.Cluster.Internal.SharedMemory;
using ParallelNet.Cluster.Protocol;
using ParallelNet.Cluster.Tests.Support;
using ParallelNet.Rpc;
using ParallelNet.Testing;

namespace ParallelNet.Cluster.Tests.SharedMemory;

/// <summary>One peer's use of the node's ring across streams: offer, placement as queued, a stream that changes under a placed message.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class RingSenderTests : IDisposable
{
    private static readonly Address Peer = new("pn.tcp", "peer", "127.0.0.1", 1);
    private readonly RingDirectory directory = new();
    private readonly ManualTimeProvider clock = new();
    private readonly RingSupply supply;
    private readonly RingSender sender;

    public RingSenderTests()
    {
        supply = new RingSupply(directory.Path, 1L << 20, NullLogger.Instance);
        sender = new RingSender(supply, Peer, NullLogger.Instance, clock);
    }

    public void Dispose()
    {
        sender.Dispose();
        supply.Dispose();
        directory.Dispose();
    }

    private sealed class RecordingWriter : IAsyncStreamWriter<ClusterFrame>
    {
        public List<ClusterFrame> Frames { get; } = [];

        public Task WriteAsync(ClusterFrame message, CancellationToken cancellationToken = default)
        {
            Frames.Add(message);
            return Task.CompletedTask;
        }
    }

    private sealed class NoFrames : IAsyncStreamReader<ClusterFrame>
    {
        public ClusterFrame Current => throw new InvalidOperationException();
        public Task<bool> MoveNext(CancellationToken cancellationToken) => Task.FromResult(false);
    }

    private static (Link Link, RecordingWriter Frames) NewLink()
    {
        var frames = new RecordingWriter();
        return (new Link(new Member(Peer, 1, []), dialed: true, frames, new NoFrames(), null, CancellationToken.None), frames);
    }

    private static OutboundMessage Message(object? key = null) =>
        OutboundMessage.ForMessage("pn.tcp://peer@127.0.0.1:1/user/x", "", "test", [new byte[200_000]], key: key ?? new object());

    private async Task<SharedRing> AcceptedOnAsync(Link link, RecordingWriter frames)
    {
        Assert.False(await sender.TryWriteAsync(link, Message())); // offers; this message takes the stream
        SharedRingOffer offer = Assert.Single(frames.Frames, f => f.KindCase == ClusterFrame.KindOneofCase.RingOffer).RingOffer;
        sender.OnAnswer(new SharedRingAnswer { Ring = offer.Ring, Accepted = true });
        return sender.Ring!;
    }

    [Fact]
    public async Task Once_accepted_a_message_placed_as_it_was_queued_goes_as_a_header_naming_its_place()
    {
        var (link, frames) = NewLink();
        SharedRing ring = await AcceptedOnAsync(link, frames);
        OutboundMessage message = Message();

        sender.PlaceEarly(message);
        Assert.NotNull(message.Placement);
        Assert.True(await sender.TryWriteAsync(link, message));
        message.Complete();

        SharedPayload shared = frames.Frames[^1].Message.Shared;
        Assert.Equal(ring.Id, shared.Ring);
        Assert.Equal(message.Placement!.Position, shared.Position);
        Assert.True(ring.InUse > 0); // held until the peer releases it
        sender.OnReleased(new SharedRingReleased { Ring = ring.Id, Position = shared.Position });
        Assert.Equal(0, ring.InUse);
    }

    [Fact]
    public async Task A_message_placed_for_a_stream_that_ended_takes_the_next_stream_and_its_place_comes_back()
    {
        var (first, firstFrames) = NewLink();
        SharedRing ring = await AcceptedOnAsync(first, firstFrames);
        OutboundMessage message = Message();
        sender.PlaceEarly(message);

        var (second, secondFrames) = NewLink();
        Assert.False(await sender.TryWriteAsync(second, message)); // a new stream: the ring is offered again, the message goes inline
        message.Complete();
        Assert.Contains(secondFrames.Frames, f => f.KindCase == ClusterFrame.KindOneofCase.RingOffer);
        Assert.Equal(0, ring.InUse);
    }

    [Fact]
    public async Task What_the_peer_of_an_ended_stream_held_comes_back_after_the_release_delay()
    {
        var (first, firstFrames) = NewLink();
        SharedRing ring = await AcceptedOnAsync(first, firstFrames);
        OutboundMessage sent = Message();
        Assert.True(await sender.TryWriteAsync(first, sent)); // placed by the send loop itself
        sent.Complete();
        long held = ring.InUse;
        Assert.True(held > 0);

        var (second, _) = NewLink();
        await sender.TryWriteAsync(second, Message());
        Assert.Equal(held, ring.InUse); // the old stream's reader may still be decoding it
        clock.Advance(RingSender.ReleaseDelay);
        await Nodes.WaitUntilAsync(() => ring.InUse == 0, "the ended stream's hold is released");
    }

    [Fact]
    public async Task A_refused_offer_keeps_every_message_on_the_stream()
    {
        var (link, frames) = NewLink();
        Assert.False(await sender.TryWriteAsync(link, Message()));
        SharedRingOffer offer = frames.Frames.Single().RingOffer;
        sender.OnAnswer(new SharedRingAnswer { Ring = offer.Ring, Accepted = false, Reason = "another host" });

        OutboundMessage message = Message();
        sender.PlaceEarly(message);
        Assert.Null(message.Placement);
        Assert.False(await sender.TryWriteAsync(link, message));
        Assert.Single(frames.Frames);
    }
}

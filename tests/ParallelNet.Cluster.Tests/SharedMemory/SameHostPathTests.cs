using Google.Protobuf;
using ParallelNet.Actors;
using ParallelNet.Cluster.Internal.SharedMemory;
using ParallelNet.Cluster.Protocol;
using ParallelNet.Cluster.Tests.Support;
using ParallelNet.Rpc;

namespace ParallelNet.Cluster.Tests.SharedMemory;

/// <summary>
/// Nodes on one host send large payloads through a shared-memory ring once the peer has mapped it; when the peer
/// cannot map it, or has shared memory off, everything stays on the stream; frames that misuse rings close the stream only.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SameHostPathTests : IDisposable
{
    private const int Floats = 75_000; // 300 KB: over the 64 KiB below which messages stay on the stream
    private readonly RingDirectory directory = new();

    public void Dispose() => directory.Dispose();

    private sealed record Tensor(int Index, float[] Values);

    private static void Register(ClusterNodeOptions options) =>
        options.Serializers.Register<Tensor>("test.Tensor", (w, t) => { w.WriteInt32(t.Index); w.WriteFloats(t.Values); }, r => new Tensor(r.ReadInt32(), r.ReadFloats()));

    private static float[] Values(int index) => [.. Enumerable.Range(0, Floats).Select(i => i * 0.5f + index)];

    /// <summary>Sends <paramref name="count"/> tensors from node 0 to an inbox on node 1 and checks every one arrives intact and in order.</summary>
    private static async Task SendAndCheckAsync(ClusterNode[] nodes, int count, string inboxName)
    {
        var (_, received) = Inbox.Create(nodes[1].System, inboxName);
        IActorRef inbox = nodes[0].ActorRefFor(nodes[1].SelfAddress, "/user/" + inboxName);
        for (int i = 0; i < count; i++) inbox.Tell(new Tensor(i, Values(i)));
        for (int i = 0; i < count; i++)
        {
            var tensor = Assert.IsType<Tensor>((await received.NextAsync()).Message);
            Assert.Equal(i, tensor.Index);
            Assert.Equal(Values(i), tensor.Values);
        }
    }

    private async Task<ClusterNode[]> StartAsync(LogCollector logs, string prefix, Action<int, ClusterNodeOptions>? configure = null)
    {
        int index = 0;
        return await Nodes.StartClusterAsync(2, prefix, logs, options =>
        {
            Register(options);
            options.SharedMemoryDirectory = directory.Path;
            options.SharedMemoryRingBytes = 1L << 20;
            configure?.Invoke(index++, options);
        });
    }

    [Fact]
    public async Task Large_payloads_go_through_the_ring_and_arrive_intact_in_order_including_when_the_ring_is_full()
    {
        var logs = new LogCollector();
        ClusterNode[] nodes = await StartAsync(logs, "ring");
        try
        {
            // The first large payload offers the ring and itself takes the stream.
            await SendAndCheckAsync(nodes, 1, "first");
            await Nodes.WaitUntilAsync(() => logs.Contains("go through shared memory"), "the peer accepted the ring");
            var ring = nodes[0].RingTo(nodes[1].SelfAddress);
            Assert.NotNull(ring);

            // 60 payloads of 300 KB through a 1 MiB ring: the first three always fit; then it wraps, and whenever the
            // receiver lags, payloads take the stream, in order with the others.
            await SendAndCheckAsync(nodes, 60, "inbox");
            Assert.True(ring.PayloadsWritten >= 3, $"only {ring.PayloadsWritten} payloads went through the ring");
            await Nodes.WaitUntilAsync(() => ring.InUse == 0, "the receiver released every payload");
            Assert.True(logs.Contains("go through shared memory"));
        }
        finally
        {
            await Nodes.DisposeAllAsync(nodes);
        }
        Assert.Empty(directory.Rings); // a node removes its ring when it stops
    }

    private sealed record ToLend(int Index, float[] Values);

    private static unsafe long AddressOf(ReadOnlyMemory<float> memory)
    {
        using var pin = memory.Pin();
        return (long)pin.Pointer;
    }

    private sealed record ToBreak(float[] Values);

    private sealed record LentTensor(int Index, LentFloats Values);

    [Fact]
    public async Task A_tensor_lent_in_place_holds_its_ring_space_until_the_recipient_releases_it_and_a_failed_decode_gives_it_back()
    {
        var logs = new LogCollector();
        ClusterNode[] nodes = await StartAsync(logs, "ring-lent", (_, options) =>
            options.Serializers
                .RegisterReceivedAs<ToLend, LentTensor>("test.Lent", (w, t) => { w.WriteInt32(t.Index); w.WriteFloats(t.Values); },
                    r => new LentTensor(r.ReadInt32(), r.ReadLentFloats()), sent: null)
                .RegisterReceivedAs<ToBreak, LentTensor>("test.LentThenBroken", (w, t) => { w.WriteInt32(0); w.WriteFloats(t.Values); },
                    r => { r.ReadInt32(); r.ReadLentFloats(); r.ReadInt64(); return null!; }, sent: null));
        try
        {
            await SendAndCheckAsync(nodes, 1, "first"); // offers the ring
            // Offered is not accepted: until the answer is in, large messages still take the stream.
            await Nodes.WaitUntilAsync(() => logs.Contains("go through shared memory"), "the peer accepted the ring");
            SharedRing ring = nodes[0].OutgoingRing!;
            var (_, received) = Inbox.Create(nodes[1].System, "lent");
            IActorRef inbox = nodes[0].ActorRefFor(nodes[1].SelfAddress, "/user/lent");
            long written = ring.PayloadsWritten;

            inbox.Tell(new ToLend(7, Values(7)));
            var lent = Assert.IsType<LentTensor>((await received.NextAsync()).Message);
            Assert.Equal(written + 1, ring.PayloadsWritten);
            Assert.Equal(Values(7), lent.Values.Values.ToArray());
            Assert.False(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(lent.Values.Values, out _)); // read in the ring itself
            Assert.Equal(0, AddressOf(lent.Values.Values) % PayloadWriter.TensorAlignment); // padded to a cache line: no split vector loads
            await Task.Delay(200);
            Assert.NotEqual(0, ring.InUse); // still lent

            lent.Values.Release();
            await Nodes.WaitUntilAsync(() => ring.InUse == 0, "the released space came back to the sender");

            // A payload that fails to decode after lending its tensor is dropped, and its space comes back all the same.
            inbox.Tell(new ToBreak(Values(8)));
            await Nodes.WaitUntilAsync(() => logs.Contains("does not decode"), "the broken message was dropped");
            await Nodes.WaitUntilAsync(() => ring.InUse == 0, "the dropped message's space came back");
        }
        finally
        {
            await Nodes.DisposeAllAsync(nodes);
        }
    }

    [Fact]
    public async Task A_message_told_to_peers_on_one_host_is_copied_into_the_ring_once_for_all_of_them()
    {
        var logs = new LogCollector();
        ClusterNode[] nodes = await Nodes.StartClusterAsync(3, "ring-broadcast", logs, options =>
        {
            Register(options);
            options.SharedMemoryDirectory = directory.Path;
        });
        try
        {
            var inboxes = new[] { Inbox.Create(nodes[1].System, "inbox").Received, Inbox.Create(nodes[2].System, "inbox").Received };
            IActorRef[] targets = [nodes[0].ActorRefFor(nodes[1].SelfAddress, "/user/inbox"), nodes[0].ActorRefFor(nodes[2].SelfAddress, "/user/inbox")];
            foreach (IActorRef target in targets) target.Tell(new Tensor(-1, Values(-1))); // offers the ring on each stream
            foreach (var inbox in inboxes) await inbox.NextAsync();
            await Nodes.WaitUntilAsync(() => nodes[0].RingTo(nodes[1].SelfAddress) is not null && nodes[0].RingTo(nodes[2].SelfAddress) is not null
                && logs.Lines.Count(l => l.Text.Contains("go through shared memory")) >= 2, "both peers accepted the ring");
            SharedRing ring = nodes[0].OutgoingRing!;

            const int Rounds = 20;
            for (int i = 0; i < Rounds; i++)
            {
                var message = new Tensor(i, Values(i));
                foreach (IActorRef target in targets) target.Tell(message);
                foreach (var inbox in inboxes)
                {
                    var received = Assert.IsType<Tensor>((await inbox.NextAsync()).Message);
                    Assert.Equal(i, received.Index);
                    Assert.Equal(Values(i), received.Values);
                }
            }

            // Each round's second send shares the copy the first one placed as it was queued, unless the first send had already completed.
            Assert.True(ring.PayloadsShared >= 1, $"no round shared its copy ({ring.PayloadsWritten} copies)");
            Assert.True(ring.PayloadsWritten + ring.PayloadsShared <= 2 * Rounds);
            await Nodes.WaitUntilAsync(() => ring.InUse == 0, "both receivers released every payload");
        }
        finally
        {
            await Nodes.DisposeAllAsync(nodes);
        }
    }

    [Fact]
    public async Task A_peer_with_shared_memory_off_refuses_the_ring_and_payloads_stay_on_the_stream()
    {
        var logs = new LogCollector();
        ClusterNode[] nodes = await StartAsync(logs, "ring-off", (i, options) => { if (i == 1) options.SharedMemoryDirectory = null; });
        try
        {
            await SendAndCheckAsync(nodes, 5, "inbox");
            Assert.True(logs.Contains("shared memory is off on this node"));
            Assert.Equal(0, nodes[0].RingTo(nodes[1].SelfAddress)?.PayloadsWritten ?? 0);
        }
        finally
        {
            await Nodes.DisposeAllAsync(nodes);
        }
    }

    [Fact]
    public async Task A_peer_that_cannot_see_the_ring_file_as_on_another_host_refuses_it_and_payloads_stay_on_the_stream()
    {
        var logs = new LogCollector();
        using var elsewhere = new RingDirectory();
        ClusterNode[] nodes = await StartAsync(logs, "ring-far", (i, options) => { if (i == 1) options.SharedMemoryDirectory = elsewhere.Path; });
        try
        {
            await SendAndCheckAsync(nodes, 5, "inbox");
            Assert.True(logs.Contains("does not exist here"));
            Assert.Equal(0, nodes[0].RingTo(nodes[1].SelfAddress)?.PayloadsWritten ?? 0);
        }
        finally
        {
            await Nodes.DisposeAllAsync(nodes);
        }
        Assert.Empty(directory.Rings);
    }

    [Fact]
    public async Task Frames_that_misuse_rings_close_only_that_stream_and_the_node_keeps_serving()
    {
        var logs = new LogCollector();
        ClusterNodeOptions options = Nodes.Options("ring-guard", logs);
        Register(options);
        options.SharedMemoryDirectory = directory.Path;
        await using ClusterNode node = await ClusterNode.StartAsync(options);
        var frames = new Method<ClusterFrame, ClusterFrame>(MethodType.DuplexStreaming, "parallelnet.cluster.v1.Cluster", "Connect", ClusterFrame.Parser, ClusterFrame.Parser);
        using var client = new GrpcClient(new Uri($"http://127.0.0.1:{node.Port}"));

        async Task<AsyncDuplexStreamingCall<ClusterFrame, ClusterFrame>> JoinAsync(string system)
        {
            var call = client.AsyncDuplexStreamingCall(frames);
            var hello = new Hello
            {
                ProtocolVersion = ClusterNode.ProtocolVersion,
                ClusterToken = ByteString.CopyFromUtf8(Nodes.Token),
                From = new NodeIdentity { System = system, Host = "127.0.0.1", Port = 1, Uid = (ulong)Random.Shared.NextInt64() },
            };
            await call.RequestStream.WriteAsync(new ClusterFrame { Hello = hello });
            using var answered = new CancellationTokenSource(Inbox.DefaultWait);
            Assert.True(await call.ResponseStream.MoveNext(answered.Token));
            Assert.Equal(ClusterFrame.KindOneofCase.Welcome, call.ResponseStream.Current.KindCase);
            return call;
        }

        // An offer naming a file outside the ring directory is refused (the answer goes to the peer's address, which does not listen).
        using (var probing = await JoinAsync("prober"))
        {
            await probing.RequestStream.WriteAsync(new ClusterFrame { RingOffer = new SharedRingOffer { Ring = 7, Name = "../../etc/passwd", Capacity = 1 << 20, Nonce = ByteString.CopyFrom(new byte[16]) } });
            await Nodes.WaitUntilAsync(() => logs.Contains("not a ring file's name"), "the node refused the offer");

            // A message in a ring never accepted on this stream: the stream is corrupt and closed.
            var start = new MessageStart { Recipient = "pn.tcp://ring-guard@127.0.0.1/user/x", TypeId = "test.Tensor", TotalLength = 100, Shared = new SharedPayload { Ring = 7, Position = 0 } };
            await probing.RequestStream.WriteAsync(new ClusterFrame { Message = start });
            await Nodes.WaitUntilAsync(() => logs.Contains("which was not accepted on this stream"), "the node closed the stream");
        }

        // Still serving: a real node joins and a tensor goes through the ring.
        ClusterNodeOptions peerOptions = Nodes.Options("ring-guard-peer", logs, seeds: Nodes.SeedOf(node));
        Register(peerOptions);
        peerOptions.SharedMemoryDirectory = directory.Path;
        await using ClusterNode peer = await ClusterNode.StartAsync(peerOptions);
        await Nodes.WaitUntilAsync(() => node.Members.Any(m => m.Address.Equals(peer.SelfAddress)), "the real peer joined");
        await SendAndCheckAsync([peer, node], 3, "inbox");
    }
}

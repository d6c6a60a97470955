using ParallelNet.Actors;
using ParallelNet.Cluster.Tests.Support;

namespace ParallelNet.Cluster.Tests;

public sealed class SerializationTests
{
    /// <summary>A training-style message: scalars, a tensor and a reference to reply to.</summary>
    private sealed record GradientsComputed(long Step, float[] Gradients, IActorRef Worker);

    private sealed record Tensor(float[] Values);

    private sealed record NotRegisteredOnTheReceiver(int Value);

    private sealed record BufferReleased(int Slot);

    private sealed record Versioned(int Value);

    [Fact]
    public async Task Example_registering_a_codec_for_a_record_with_a_tensor_and_an_actor_reference()
    {
        // Register the same codec on every node, before it starts: a type id, how to write the fields, how to read them back.
        static void Register(ClusterNodeOptions options) => options.Serializers.Register<GradientsComputed>("example.GradientsComputed",
            (w, m) => { w.WriteInt64(m.Step); w.WriteFloats(m.Gradients); w.WriteActorRef(m.Worker); },
            r => new GradientsComputed(r.ReadInt64(), r.ReadFloats(), r.ReadActorRef()!));

        ClusterNode[] nodes = await Nodes.StartClusterAsync(2, "example", configure: Register);
        try
        {
            var (_, serverReceived) = Inbox.Create(nodes[1].System, "server");
            var (worker, workerReceived) = Inbox.Create(nodes[0].System, "worker");
            IActorRef server = nodes[0].ActorRefFor(nodes[1].SelfAddress, "/user/server");

            server.Tell(new GradientsComputed(7, [1.5f, -2f, float.Epsilon], worker));
            var received = Assert.IsType<GradientsComputed>((await serverReceived.NextAsync()).Message);
            Assert.Equal(7, received.Step);
            Assert.Equal([1.5f, -2f, float.Epsilon], received.Gradients);

            received.Worker.Tell("weights are ready");
            Assert.Equal("weights are ready", (await workerReceived.NextAsync()).Message);
        }
        finally
        {
            await Nodes.DisposeAllAsync(nodes);
        }
    }

    [Fact]
    public async Task A_20_MiB_tensor_crosses_a_4_MiB_frame_limit_in_chunks_both_ways()
    {
        static void Configure(ClusterNodeOptions options)
        {
            options.MaxFrameSize = 4 * 1024 * 1024;
            options.Serializers.Register<Tensor>("test.Tensor", (w, t) => w.WriteFloats(t.Values), r => new Tensor(r.ReadFloats()));
        }

        ClusterNode[] nodes = await Nodes.StartClusterAsync(2, "chunks", configure: Configure);
        try
        {
            var (_, bReceived) = Inbox.Create(nodes[1].System, "inbox");
            var (aInbox, aReceived) = Inbox.Create(nodes[0].System, "inbox");
            var values = new float[5 * 1024 * 1024];
            var random = new Random(5);
            for (int i = 0; i < values.Length; i++) values[i] = (float)random.NextDouble();

            nodes[0].ActorRefFor(nodes[1].SelfAddress, "/user/inbox").Tell(new Tensor(values), aInbox);
            var (message, sender) = await bReceived.NextAsync(TimeSpan.FromSeconds(60));
            Tensor arrived = Assert.IsType<Tensor>(message);
            Assert.True(values.AsSpan().SequenceEqual(arrived.Values), "the tensor changed on the way");

            // Back over the same stream, in the acceptor-to-dialer direction.
            sender.Tell(arrived);
            Tensor returned = Assert.IsType<Tensor>((await aReceived.NextAsync(TimeSpan.FromSeconds(60))).Message);
            Assert.True(values.AsSpan().SequenceEqual(returned.Values), "the tensor changed on the way back");
        }
        finally
        {
            await Nodes.DisposeAllAsync(nodes);
        }
    }

    [Fact]
    public async Task Messages_of_an_unknown_type_or_with_an_undecodable_payload_are_dropped_with_a_log_line_and_traffic_goes_on()
    {
        var logs = new LogCollector();
        ClusterNode[] nodes = await Nodes.StartClusterAsync(2, "unknown", logs, options =>
        {
            if (options.SystemName == "unknown0")
            {
                options.Serializers.Register<NotRegisteredOnTheReceiver>("test.Unknown", (w, m) => w.WriteInt32(m.Value), r => new NotRegisteredOnTheReceiver(r.ReadInt32()));
                options.Serializers.Register<Versioned>("test.Versioned", (w, m) => w.WriteInt32(m.Value), r => new Versioned(r.ReadInt32()));
            }
            else
            {
                // A newer codec on the receiver expects a field the sender does not write.
                options.Serializers.Register<Versioned>("test.Versioned", (w, m) => { w.WriteInt32(m.Value); w.WriteInt64(0); }, r => new Versioned(r.ReadInt32() + (int)r.ReadInt64()));
            }
        });
        try
        {
            var (_, received) = Inbox.Create(nodes[1].System, "inbox");
            IActorRef remote = nodes[0].ActorRefFor(nodes[1].SelfAddress, "/user/inbox");
            remote.Tell(new NotRegisteredOnTheReceiver(1));
            remote.Tell(new Versioned(2));
            remote.Tell("after");
            Assert.Equal("after", (await received.NextAsync()).Message);
            Assert.True(logs.Contains("unknown type \"test.Unknown\""), "the receiver logs the unknown type");
            Assert.True(logs.Contains("test.Versioned from"), "the receiver logs the undecodable payload");
            Assert.True(logs.Contains("does not decode"), "the receiver says why");
        }
        finally
        {
            await Nodes.DisposeAllAsync(nodes);
        }
    }

    [Fact]
    public async Task Local_only_messages_are_dropped_silently_and_unregistered_ones_with_a_log_line()
    {
        var logs = new LogCollector();
        ClusterNode[] nodes = await Nodes.StartClusterAsync(2, "local-only", logs, options => options.Serializers.RegisterLocalOnly<BufferReleased>());
        try
        {
            var (_, received) = Inbox.Create(nodes[1].System, "inbox");
            IActorRef remote = nodes[0].ActorRefFor(nodes[1].SelfAddress, "/user/inbox");
            remote.Tell(new BufferReleased(3));
            remote.Tell(42.0); // no codec for double
            remote.Tell("after");
            Assert.Equal("after", (await received.NextAsync()).Message);
            Assert.Equal(0, received.Count);
            Assert.DoesNotContain(logs.Lines, l => l.Text.Contains(nameof(BufferReleased), StringComparison.Ordinal));
            Assert.True(logs.Contains("no codec is registered for it"), "an unregistered type is reported");
        }
        finally
        {
            await Nodes.DisposeAllAsync(nodes);
        }
    }

    [Fact]
    public void Registering_a_type_or_a_type_id_twice_is_refused()
    {
        var serializers = new MessageSerializers();
        serializers.Register<Tensor>("test.Tensor", (w, t) => w.WriteFloats(t.Values), r => new Tensor(r.ReadFloats()));
        Assert.Throws<ArgumentException>(() => serializers.Register<Tensor>("test.Other", (_, _) => { }, _ => new Tensor([])));
        Assert.Throws<ArgumentException>(() => serializers.Register<BufferReleased>("test.Tensor", (_, _) => { }, _ => new BufferReleased(0)));
        Assert.Throws<ArgumentException>(() => serializers.RegisterLocalOnly<Tensor>());
        Assert.True(serializers.IsRegistered(typeof(Tensor)));
        Assert.False(serializers.IsRegistered(typeof(BufferReleased)));
    }
}

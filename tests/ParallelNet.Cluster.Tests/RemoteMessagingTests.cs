using ParallelNet.Actors;
using ParallelNet.Cluster.Tests.Support;

namespace ParallelNet.Cluster.Tests;

public sealed class RemoteMessagingTests
{
    private sealed class Squarer : ReceiveActor
    {
        public Squarer()
        {
            Receive<Numbered>(n => Sender.Tell(new Squared(n.Value * n.Value), Self));
            Receive<string>(text => Sender.Tell(new Status.Failure(new InvalidOperationException($"cannot square '{text}'")), Self));
        }
    }

    private static void RegisterSquared(ClusterNodeOptions options) =>
        options.Serializers.Register<Squared>("test.Squared", (w, s) => w.WriteInt32(s.Value), r => new Squared(r.ReadInt32()));

    [Fact]
    public async Task A_message_reaches_an_actor_on_another_node_with_a_sender_that_can_be_replied_to()
    {
        ClusterNode[] nodes = await Nodes.StartClusterAsync(2, "exchange");
        try
        {
            var (_, bReceived) = Inbox.Create(nodes[1].System, "inbox");
            var (aInbox, aReceived) = Inbox.Create(nodes[0].System, "inbox");
            IActorRef remote = nodes[0].ActorRefFor(nodes[1].SelfAddress, "/user/inbox");

            remote.Tell("hello from A", aInbox);
            var (message, sender) = await bReceived.NextAsync();
            Assert.Equal("hello from A", message);
            Assert.Equal(nodes[1].WirePathOf(sender), nodes[0].WirePathOf(aInbox));

            sender.Tell("hello back", ActorRefs.NoSender);
            Assert.Equal("hello back", (await aReceived.NextAsync()).Message);
        }
        finally
        {
            await Nodes.DisposeAllAsync(nodes);
        }
    }

    private sealed record Labelled(string Label, float[] Values, long Tail);

    [Fact]
    public async Task A_message_of_many_frames_with_fields_around_its_tensor_arrives_whole()
    {
        ClusterNode[] nodes = await Nodes.StartClusterAsync(2, "pieces", configure: o => o.Serializers.Register<Labelled>("test.Labelled",
            (w, m) => { w.WriteString(m.Label); w.WriteFloats(m.Values); w.WriteInt64(m.Tail); },
            r => new Labelled(r.ReadString()!, r.ReadPooledFloats(), r.ReadInt64())));
        try
        {
            var (_, received) = Inbox.Create(nodes[1].System, "inbox");
            IActorRef remote = nodes[0].ActorRefFor(nodes[1].SelfAddress, "/user/inbox");
            // Megabytes: many frames, the tensor spread over them and the fields before and after it in frames of their own.
            float[] values = [.. Enumerable.Range(0, 700_001).Select(i => i * 0.125f - 3f)];

            remote.Tell(new Labelled("weights", values, long.MinValue + 5), ActorRefs.NoSender);
            var arrived = Assert.IsType<Labelled>((await received.NextAsync()).Message);
            Assert.Equal("weights", arrived.Label);
            Assert.Equal(values, arrived.Values);
            Assert.Equal(long.MinValue + 5, arrived.Tail);
        }
        finally
        {
            await Nodes.DisposeAllAsync(nodes);
        }
    }

    [Fact]
    public async Task A_message_for_a_node_that_is_not_up_yet_waits_and_is_delivered_once_it_is()
    {
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }
        var clock = new ParallelNet.Testing.ManualTimeProvider();
        await using ClusterNode early = await ClusterNode.StartAsync(Nodes.Options("early", clock: clock));
        early.ActorRefFor(new Address("pn.tcp", "late", "127.0.0.1", port), "/user/inbox").Tell("sent before you started");
        await Task.Delay(300); // the first dial finds nobody listening

        await using ClusterNode late = await ClusterNode.StartAsync(Nodes.Options("late", port: port));
        var (_, received) = Inbox.Create(late.System, "inbox");
        await Nodes.AdvanceUntilAsync(clock, () => received.Count > 0, "the queued message is delivered after a redial");
        Assert.Equal("sent before you started", (await received.NextAsync()).Message);
    }

    [Fact]
    public async Task Messages_from_one_sender_arrive_in_the_order_sent()
    {
        ClusterNode[] nodes = await Nodes.StartClusterAsync(2, "order");
        try
        {
            var (_, received) = Inbox.Create(nodes[1].System, "inbox");
            IActorRef remote = nodes[0].ActorRefFor(nodes[1].SelfAddress, "/user/inbox");
            const int count = 2000;
            for (int i = 0; i < count; i++) remote.Tell(new Numbered(i));
            for (int i = 0; i < count; i++) Assert.Equal(new Numbered(i), (await received.NextAsync()).Message);
        }
        finally
        {
            await Nodes.DisposeAllAsync(nodes);
        }
    }

    [Fact]
    public async Task Ask_across_nodes_completes_with_the_reply_and_a_remote_failure_faults_it()
    {
        ClusterNode[] nodes = await Nodes.StartClusterAsync(2, "ask", configure: RegisterSquared);
        try
        {
            nodes[1].System.ActorOf(Props.Create(() => new Squarer()), "squarer");
            IActorRef remote = nodes[0].ActorRefFor(nodes[1].SelfAddress, "/user/squarer");

            Squared reply = await remote.Ask<Squared>(new Numbered(12), TimeSpan.FromSeconds(20));
            Assert.Equal(144, reply.Value);

            var failure = await Assert.ThrowsAsync<RemoteActorException>(() => remote.Ask<Squared>("twelve", TimeSpan.FromSeconds(20)));
            Assert.Equal(typeof(InvalidOperationException).FullName, failure.RemoteType);
            Assert.Contains("cannot square 'twelve'", failure.Message, StringComparison.Ordinal);
        }
        finally
        {
            await Nodes.DisposeAllAsync(nodes);
        }
    }

    [Fact]
    public async Task Watching_a_remote_actor_yields_Terminated_when_it_stops()
    {
        ClusterNode[] nodes = await Nodes.StartClusterAsync(2, "watch");
        try
        {
            var (target, _) = Inbox.Create(nodes[1].System, "target");
            IActorRef remote = nodes[0].ActorRefFor(nodes[1].SelfAddress, "/user/target");
            var watcherInbox = System.Threading.Channels.Channel.CreateUnbounded<(object, IActorRef)>();
            nodes[0].System.ActorOf(Props.Create(() => new WatchingInbox(remote, watcherInbox.Writer)), "watcher");
            Assert.Equal("watching", (await watcherInbox.Reader.NextAsync()).Message);
            // Whether the watch or the stop reaches node 1 first, the watcher gets exactly one Terminated.
            nodes[1].System.Stop(target);
            var (message, _) = await watcherInbox.Reader.NextAsync();
            Assert.Equal(remote, Assert.IsType<Terminated>(message).ActorRef);
        }
        finally
        {
            await Nodes.DisposeAllAsync(nodes);
        }
    }

    [Fact]
    public async Task Watching_an_actor_that_does_not_exist_on_the_other_node_yields_Terminated_at_once()
    {
        ClusterNode[] nodes = await Nodes.StartClusterAsync(2, "watch-none");
        try
        {
            IActorRef remote = nodes[0].ActorRefFor(nodes[1].SelfAddress, "/user/nobody-here");
            var watcherInbox = System.Threading.Channels.Channel.CreateUnbounded<(object, IActorRef)>();
            nodes[0].System.ActorOf(Props.Create(() => new WatchingInbox(remote, watcherInbox.Writer)), "watcher");
            Assert.Equal("watching", (await watcherInbox.Reader.NextAsync()).Message);
            Assert.Equal(remote, Assert.IsType<Terminated>((await watcherInbox.Reader.NextAsync()).Message).ActorRef);
        }
        finally
        {
            await Nodes.DisposeAllAsync(nodes);
        }
    }
}

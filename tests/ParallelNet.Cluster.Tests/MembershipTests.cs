using System.Threading.Channels;
using ParallelNet.Actors;
using ParallelNet.Cluster.Tests.Support;
using ParallelNet.Testing;

namespace ParallelNet.Cluster.Tests;

public sealed class MembershipTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task Nodes_joining_through_one_seed_find_each_other_and_know_each_others_roles()
    {
        var nodes = new List<ClusterNode>();
        try
        {
            ClusterNodeOptions seedOptions = Nodes.Options("seed");
            seedOptions.Roles.Add("coordinator");
            nodes.Add(await ClusterNode.StartAsync(seedOptions));
            for (int i = 1; i <= 2; i++)
            {
                ClusterNodeOptions options = Nodes.Options("worker" + i, seeds: Nodes.SeedOf(nodes[0]));
                options.Roles.Add("worker");
                nodes.Add(await ClusterNode.StartAsync(options));
            }
            foreach (ClusterNode node in nodes) await Nodes.WaitForMembersAsync(node, 2);

            Member coordinator = Assert.Single(nodes[2].Members, m => m.HasRole("coordinator"));
            Assert.Equal(nodes[0].SelfMember, coordinator);
            Assert.Contains(nodes[1].SelfMember, nodes[2].Members);
            Assert.All(nodes[0].Members, m => Assert.True(m.HasRole("worker")));
        }
        finally
        {
            await Nodes.DisposeAllAsync(nodes);
        }
    }

    [Fact]
    public async Task A_node_whose_seed_list_names_itself_under_another_host_name_notices_it_quietly()
    {
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }
        var logs = new LogCollector();
        var clock = new ManualTimeProvider();
        await using ClusterNode node = await ClusterNode.StartAsync(Nodes.Options("self-seed", logs, clock, port, $"localhost:{port}"));
        await Nodes.WaitUntilAsync(() => logs.Contains("is this node itself"), "the node recognizes itself");
        for (int i = 0; i < 3; i++) clock.Advance(Second);
        await Task.Delay(200);
        Assert.Single(logs.Lines, l => l.Text.Contains("is this node itself", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Lines, l => l.Level >= Microsoft.Extensions.Logging.LogLevel.Warning);
        Assert.Empty(node.Members);
    }

    [Fact]
    public async Task A_silent_member_becomes_unreachable_then_reachable_again_then_removed_and_watchers_get_Terminated()
    {
        var clockA = new ManualTimeProvider();
        var clockB = new ManualTimeProvider();
        var logs = new LogCollector();
        await using ClusterNode a = await ClusterNode.StartAsync(Nodes.Options("detector-a", logs, clockA));
        await using ClusterNode b = await ClusterNode.StartAsync(Nodes.Options("detector-b", clock: clockB, seeds: Nodes.SeedOf(a)));
        await Nodes.WaitForMembersAsync(a, 1);
        await Nodes.WaitForMembersAsync(b, 1);

        var events = Channel.CreateUnbounded<(object Message, IActorRef Sender)>();
        a.Subscribe(a.System.ActorOf(Props.Create(() => new Inbox(events.Writer)), "events"));
        Assert.Equal(new MemberUp(b.SelfMember), (await events.Reader.NextAsync()).Message);
        var (target, _) = Inbox.Create(b.System, "target");
        var watched = Channel.CreateUnbounded<(object Message, IActorRef Sender)>();
        IActorRef remoteTarget = a.ActorRefFor(b.SelfAddress, "/user/target");
        a.System.ActorOf(Props.Create(() => new WatchingInbox(remoteTarget, watched.Writer)), "watcher");
        Assert.Equal("watching", (await watched.Reader.NextAsync()).Message);

        // b's clock stands still, so b sends no heartbeats: after 5 s of a's time it is unreachable.
        for (int i = 0; i < 4; i++) clockA.Advance(Second);
        Assert.Empty(a.UnreachableMembers);
        clockA.Advance(Second);
        Assert.Equal(new MemberUnreachable(b.SelfMember), (await events.Reader.NextAsync()).Message);
        Assert.True(logs.Contains("is unreachable"));

        clockB.Advance(Second); // one heartbeat from b
        Assert.Equal(new MemberReachable(b.SelfMember), (await events.Reader.NextAsync()).Message);

        for (int i = 0; i < 10; i++) clockA.Advance(Second);
        Assert.Equal(new MemberUnreachable(b.SelfMember), (await events.Reader.NextAsync()).Message);
        var removed = Assert.IsType<MemberRemoved>((await events.Reader.NextAsync()).Message);
        Assert.Equal(b.SelfMember, removed.Member);
        Assert.Empty(a.Members);
        Assert.Equal(remoteTarget, Assert.IsType<Terminated>((await watched.Reader.NextAsync()).Message).ActorRef);
        Assert.NotNull(target);
    }

    [Fact]
    public async Task A_removed_incarnation_is_refused_but_a_restarted_node_at_the_same_address_rejoins()
    {
        var clockA = new ManualTimeProvider();
        var clockB = new ManualTimeProvider();
        var logsA = new LogCollector();
        var logsB = new LogCollector();
        await using ClusterNode a = await ClusterNode.StartAsync(Nodes.Options("rejoin-a", logsA, clockA));
        ClusterNode b = await ClusterNode.StartAsync(Nodes.Options("rejoin-b", logsB, clockB, seeds: Nodes.SeedOf(a)));
        int port = b.Port;
        ulong firstUid = b.Uid;
        try
        {
            await Nodes.WaitForMembersAsync(a, 1);
            for (int i = 0; i < 10; i++) clockA.Advance(Second);
            Assert.Empty(a.Members);

            // The old incarnation still runs and tries again: it is turned away, and both sides say why.
            await Nodes.AdvanceUntilAsync(clockB, () => logsB.Contains("was removed from the cluster"), "the removed node logs its refusal");
            Assert.True(logsA.Contains("was removed from the cluster"));
            Assert.Empty(a.Members);
        }
        finally
        {
            await b.DisposeAsync();
        }

        await using ClusterNode restarted = await ClusterNode.StartAsync(Nodes.Options("rejoin-b", clock: new ManualTimeProvider(), port: port, seeds: Nodes.SeedOf(a)));
        await Nodes.WaitForMembersAsync(a, 1);
        Member member = Assert.Single(a.Members);
        Assert.Equal(restarted.SelfAddress, member.Address);
        Assert.NotEqual(firstUid, member.Uid);
        var (_, received) = Inbox.Create(restarted.System, "inbox");
        a.ActorRefFor(restarted.SelfAddress, "/user/inbox").Tell("welcome back");
        Assert.Equal("welcome back", (await received.NextAsync()).Message);
    }

    [Fact]
    public async Task Workers_reconnect_by_themselves_to_a_restarted_seed()
    {
        var clockWorker = new ManualTimeProvider();
        ClusterNode seed = await ClusterNode.StartAsync(Nodes.Options("restart-seed", clock: new ManualTimeProvider()));
        int port = seed.Port;
        await using ClusterNode worker = await ClusterNode.StartAsync(Nodes.Options("restart-worker", clock: clockWorker, seeds: Nodes.SeedOf(seed)));
        await Nodes.WaitForMembersAsync(worker, 1);

        await seed.DisposeAsync(); // leaves: the worker removes it at once
        await Nodes.WaitForMembersAsync(worker, 0);

        await using ClusterNode restarted = await ClusterNode.StartAsync(Nodes.Options("restart-seed", clock: new ManualTimeProvider(), port: port));
        // The worker's next heartbeat round dials its seed again.
        await Nodes.AdvanceUntilAsync(clockWorker, () => worker.Members.Count == 1, "the worker is back in touch with its seed");
        await Nodes.WaitForMembersAsync(restarted, 1);
        Assert.Equal(restarted.SelfMember, Assert.Single(worker.Members));
    }
}

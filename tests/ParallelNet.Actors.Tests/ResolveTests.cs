using ParallelNet.Actors.Tests.Support;

namespace ParallelNet.Actors.Tests;

public sealed class ResolveTests
{
    private sealed class Parent : ReceiveActor
    {
        public Parent()
        {
            Receive<string>(name => Sender.Tell(Context.ActorOf(Props.Create(() => new Parent()), name), Self));
        }
    }

    [Fact]
    public async Task TryResolve_finds_live_actors_by_path_and_nothing_elsewhere()
    {
        await using var system = ActorSystem.Create("resolve");
        IActorRef parent = system.ActorOf(Props.Create(() => new Parent()), "parent");
        IActorRef child = await parent.Ask<IActorRef>("child", TestProbe.DefaultWait);

        Assert.True(system.TryResolve(child.Path, out IActorRef? found));
        Assert.Same(child, found);
        Assert.True(system.TryResolve(ActorPath.Parse("pn://resolve/user/parent"), out found));
        Assert.Same(parent, found);
        Assert.False(system.TryResolve(ActorPath.Parse("pn://resolve/user/parent/other"), out _));
        Assert.False(system.TryResolve(ActorPath.Parse("pn://elsewhere/user/parent"), out _));
        Assert.False(system.TryResolve(ActorPath.Parse("pn://resolve/system/parent"), out _));

        Assert.True(await child.GracefulStop(TestProbe.DefaultWait));
        Assert.False(system.TryResolve(child.Path, out _));
    }

    [Fact]
    public async Task An_Ask_reply_address_resolves_while_the_Ask_waits_and_not_after()
    {
        await using var system = ActorSystem.Create("resolve-temp");
        var probe = new TestProbe(system);
        Task<int> pending = probe.Ask<int>("question", Timeout.InfiniteTimeSpan);
        await probe.ExpectMsgAsync<string>("question");
        IActorRef replyTo = probe.LastSender!;

        Assert.True(system.TryResolve(replyTo.Path, out IActorRef? found));
        Assert.Same(replyTo, found);
        found.Tell(42);
        Assert.Equal(42, await pending);
        Assert.False(system.TryResolve(replyTo.Path, out _));
    }
}

using ParallelNet.Actors.Tests.Support;

namespace ParallelNet.Actors.Tests;

public sealed class DeathWatchTests
{
    private sealed record WatchRequested(IActorRef Subject);
    private sealed record UnwatchRequested(IActorRef Subject);
    private sealed record PingRequested;
    private sealed record Ponged;

    /// <summary>Watches on request and forwards every Terminated it gets to the probe.</summary>
    private sealed class WatcherActor : ReceiveActor
    {
        public WatcherActor(IActorRef probe)
        {
            Receive<WatchRequested>(request =>
            {
                Context.Watch(request.Subject);
                Sender.Tell("watching", Self);
            });
            Receive<UnwatchRequested>(request =>
            {
                Context.Unwatch(request.Subject);
                Sender.Tell("unwatched", Self);
            });
            Receive<Terminated>(terminated => probe.Tell(terminated, Self));
            Receive<PingRequested>(_ => probe.Tell(new Ponged(), Self));
        }
    }

    private sealed class IdleActor : ReceiveActor;

    private static Task<string> Request(IActorRef watcher, object request) => watcher.Ask<string>(request, TestProbe.DefaultWait);

    [Fact]
    public async Task A_watcher_gets_exactly_one_Terminated_however_often_it_watched()
    {
        await using var system = ActorSystem.Create("watch-once");
        var probe = new TestProbe(system);
        IActorRef watcher = system.ActorOf(Props.Create(() => new WatcherActor(probe)), "watcher");
        IActorRef subject = system.ActorOf(Props.Create(() => new IdleActor()), "subject");

        await Request(watcher, new WatchRequested(subject));
        await Request(watcher, new WatchRequested(subject));
        system.Stop(subject);

        Assert.Same(subject, (await probe.ExpectMsgAsync<Terminated>()).ActorRef);
        watcher.Tell(new PingRequested());
        await probe.ExpectMsgAsync<Ponged>(); // a second Terminated would have come before this
        Assert.Equal(0, probe.PendingCount);
    }

    [Fact]
    public async Task Watching_an_actor_that_already_stopped_still_yields_Terminated()
    {
        await using var system = ActorSystem.Create("watch-dead");
        var probe = new TestProbe(system);
        IActorRef subject = system.ActorOf(Props.Create(() => new IdleActor()), "subject");
        Assert.True(await subject.GracefulStop(TestProbe.DefaultWait));

        IActorRef watcher = system.ActorOf(Props.Create(() => new WatcherActor(probe)), "watcher");
        await Request(watcher, new WatchRequested(subject));
        Assert.Same(subject, (await probe.ExpectMsgAsync<Terminated>()).ActorRef);

        var directWatcher = new TestProbe(system, "direct");
        directWatcher.Watch(subject);
        Assert.Same(subject, (await directWatcher.ExpectMsgAsync<Terminated>()).ActorRef);
    }

    [Fact]
    public async Task After_Unwatch_no_Terminated_arrives()
    {
        await using var system = ActorSystem.Create("unwatch");
        var probe = new TestProbe(system);
        IActorRef watcher = system.ActorOf(Props.Create(() => new WatcherActor(probe)), "watcher");
        IActorRef subject = system.ActorOf(Props.Create(() => new IdleActor()), "subject");

        await Request(watcher, new WatchRequested(subject));
        await Request(watcher, new UnwatchRequested(subject));
        Assert.True(await subject.GracefulStop(TestProbe.DefaultWait));
        // Watched again after death: the only Terminated is the one for this new watch.
        await Request(watcher, new WatchRequested(subject));
        Assert.Same(subject, (await probe.ExpectMsgAsync<Terminated>()).ActorRef);
        watcher.Tell(new PingRequested());
        await probe.ExpectMsgAsync<Ponged>();
        Assert.Equal(0, probe.PendingCount);
    }

    private sealed class IgnoresTerminated : ReceiveActor
    {
        public IgnoresTerminated(IActorRef subject, IActorRef probe)
        {
            Receive<PingRequested>(_ => { });
            this.subject = subject;
            this.probe = probe;
        }

        private readonly IActorRef subject;
        private readonly IActorRef probe;

        protected override void PreStart()
        {
            Context.Watch(subject);
            probe.Tell("watching", Self);
        }
    }

    [Fact]
    public async Task An_unhandled_Terminated_breaks_the_death_pact_and_stops_the_watcher()
    {
        await using var system = ActorSystem.Create("death-pact");
        var probe = new TestProbe(system);
        IActorRef subject = system.ActorOf(Props.Create(() => new IdleActor()), "subject");
        IActorRef watcher = system.ActorOf(Props.Create(() => new IgnoresTerminated(subject, probe)), "watcher");
        Assert.Equal("watching", await probe.ExpectMsgAsync<string>());
        probe.Watch(watcher);

        system.Stop(subject);
        Assert.Same(watcher, (await probe.ExpectMsgAsync<Terminated>()).ActorRef);
    }
}

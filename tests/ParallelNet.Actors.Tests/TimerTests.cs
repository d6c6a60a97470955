using ParallelNet.Testing;
using ParallelNet.Actors.Tests.Support;

namespace ParallelNet.Actors.Tests;

public sealed class TimerTests
{
    private sealed record StartSingleTimer(string Key, TimeSpan Delay);
    private sealed record StartPeriodicTimer(string Key, TimeSpan Interval);
    private sealed record CancelTimer(string Key);
    private sealed record Ticked(string Key, int Number, bool FromSelf = true);
    private sealed record TicksRequested;
    private sealed record FailRequested;

    private sealed record TickFired(string Key);

    /// <summary>Starts and cancels timers on request; every tick is counted and forwarded to the probe.</summary>
    private sealed class TimerActor : ReceiveActor
    {
        private int ticks;

        public TimerActor(IActorRef probe)
        {
            Receive<StartSingleTimer>(start =>
            {
                Timers.StartSingleTimer(start.Key, new TickFired(start.Key), start.Delay);
                Sender.Tell("started", Self);
            });
            Receive<StartPeriodicTimer>(start =>
            {
                Timers.StartPeriodicTimer(start.Key, new TickFired(start.Key), start.Interval);
                Sender.Tell("started", Self);
            });
            Receive<CancelTimer>(cancel =>
            {
                Timers.Cancel(cancel.Key);
                Sender.Tell(Timers.IsTimerActive(cancel.Key) ? "still active" : "cancelled", Self);
            });
            Receive<TickFired>(tick =>
            {
                ticks++;
                probe.Tell(new Ticked(tick.Key, ticks, FromSelf: Sender.Equals(Self)), Self); // a timer's message comes from the actor itself
            });
            Receive<TicksRequested>(_ => Sender.Tell(ticks, Self));
            Receive<FailRequested>(_ => throw new InvalidOperationException("restart me"));
        }
    }

    private static async Task<(ActorSystem System, ManualTimeProvider Clock, TestProbe Probe, IActorRef Actor)> Start(string name)
    {
        var clock = new ManualTimeProvider();
        var system = ActorSystem.Create(name, clock);
        var probe = new TestProbe(system);
        IActorRef actor = system.ActorOf(Props.Create(() => new TimerActor(probe)), "timed");
        await actor.Ask<int>(new TicksRequested(), Timeout.InfiniteTimeSpan).WaitAsync(TestProbe.DefaultWait);
        return (system, clock, probe, actor);
    }

    private static Task<string> Request(IActorRef actor, object request) =>
        actor.Ask<string>(request, Timeout.InfiniteTimeSpan).WaitAsync(TestProbe.DefaultWait);

    private static Task<int> Ticks(IActorRef actor) =>
        actor.Ask<int>(new TicksRequested(), Timeout.InfiniteTimeSpan).WaitAsync(TestProbe.DefaultWait);

    [Fact]
    public async Task A_single_timer_fires_once_when_the_injected_clock_reaches_its_delay()
    {
        var (system, clock, probe, actor) = await Start("single-timer");
        await using (system)
        {
            await Request(actor, new StartSingleTimer("once", TimeSpan.FromSeconds(10)));
            clock.Advance(TimeSpan.FromSeconds(9));
            Assert.Equal(0, await Ticks(actor)); // a tick sent during Advance would be queued before this question
            clock.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal(new Ticked("once", 1), await probe.ExpectMsgAsync<Ticked>());
            clock.Advance(TimeSpan.FromSeconds(60));
            Assert.Equal(1, await Ticks(actor));
            Assert.Equal(0, clock.ActiveTimers);
        }
    }

    [Fact]
    public async Task A_periodic_timer_fires_every_interval_until_cancelled()
    {
        var (system, clock, probe, actor) = await Start("periodic-timer");
        await using (system)
        {
            await Request(actor, new StartPeriodicTimer("beat", TimeSpan.FromSeconds(1)));
            clock.Advance(TimeSpan.FromSeconds(3));
            for (int n = 1; n <= 3; n++) Assert.Equal(new Ticked("beat", n), await probe.ExpectMsgAsync<Ticked>());

            Assert.Equal("cancelled", await Request(actor, new CancelTimer("beat")));
            clock.Advance(TimeSpan.FromSeconds(5));
            Assert.Equal(3, await Ticks(actor));
            Assert.Equal(0, clock.ActiveTimers);
        }
    }

    [Fact]
    public async Task Restarting_a_key_replaces_its_timer()
    {
        var (system, clock, probe, actor) = await Start("replace-timer");
        await using (system)
        {
            await Request(actor, new StartSingleTimer("k", TimeSpan.FromSeconds(1)));
            await Request(actor, new StartSingleTimer("k", TimeSpan.FromSeconds(5)));
            clock.Advance(TimeSpan.FromSeconds(2));
            Assert.Equal(0, await Ticks(actor));
            clock.Advance(TimeSpan.FromSeconds(3));
            Assert.Equal(new Ticked("k", 1), await probe.ExpectMsgAsync<Ticked>());
        }
    }

    [Fact]
    public async Task Timers_are_cancelled_when_the_actor_restarts_or_stops()
    {
        var (system, clock, _, actor) = await Start("timer-lifecycle");
        await using (system)
        {
            await Request(actor, new StartPeriodicTimer("beat", TimeSpan.FromSeconds(1)));
            actor.Tell(new FailRequested());
            Assert.Equal(0, await Ticks(actor)); // the new instance: restarted by the guardian
            Assert.Equal(0, clock.ActiveTimers);
            clock.Advance(TimeSpan.FromSeconds(5));
            Assert.Equal(0, await Ticks(actor));

            await Request(actor, new StartPeriodicTimer("beat", TimeSpan.FromSeconds(1)));
            Assert.Equal(1, clock.ActiveTimers);
            Assert.True(await actor.GracefulStop(Timeout.InfiniteTimeSpan).WaitAsync(TestProbe.DefaultWait));
            Assert.Equal(0, clock.ActiveTimers);
        }
    }
}

using ParallelNet.Testing;
using ParallelNet.Actors.Tests.Support;

namespace ParallelNet.Actors.Tests;

public sealed class SupervisionTests
{
    private sealed record Increment;
    private sealed record FailWith(Exception Cause);
    private sealed record CountRequested;
    private sealed record ChildRequested(Props Props, string Name);

    private sealed class ResumableFailure(string message) : Exception(message);
    private sealed class RestartableFailure(string message) : Exception(message);
    private sealed class StoppingFailure(string message) : Exception(message);
    private sealed class EscalatingFailure(string message) : Exception(message);

    private static Directive Decide(Exception cause) => cause switch
    {
        ResumableFailure => Directive.Resume,
        RestartableFailure => Directive.Restart,
        StoppingFailure => Directive.Stop,
        EscalatingFailure => Directive.Escalate,
        _ => SupervisorStrategy.DefaultDecider(cause),
    };

    /// <summary>A counter that reports its lifecycle hooks to a probe and throws on request.</summary>
    private sealed class CounterActor : ReceiveActor
    {
        private readonly IActorRef probe;
        private int count;

        public CounterActor(IActorRef probe)
        {
            this.probe = probe;
            Receive<Increment>(_ => count++);
            Receive<CountRequested>(_ => Sender.Tell(count, Self));
            Receive<FailWith>(fail => throw fail.Cause);
        }

        protected override void PreStart() => probe.Tell("PreStart", Self);
        protected override void PostStop() => probe.Tell("PostStop", Self);

        protected override void PreRestart(Exception reason, object? message)
        {
            probe.Tell($"PreRestart {reason.Message} while {message?.GetType().Name}", Self);
            base.PreRestart(reason, message);
        }

        protected override void PostRestart(Exception reason)
        {
            probe.Tell($"PostRestart {reason.Message}", Self);
            base.PostRestart(reason);
        }
    }

    /// <summary>Creates children on request and supervises them with the strategy it was given.</summary>
    private sealed class SupervisorActor : ReceiveActor
    {
        private readonly SupervisorStrategy strategy;

        public SupervisorActor(SupervisorStrategy strategy)
        {
            this.strategy = strategy;
            Receive<ChildRequested>(request => Sender.Tell(Context.ActorOf(request.Props, request.Name), Self));
        }

        protected override SupervisorStrategy SupervisorStrategy() => strategy;
    }

    private static async Task<IActorRef> SuperviseCounter(ActorSystem system, IActorRef probe, SupervisorStrategy strategy)
    {
        IActorRef supervisor = system.ActorOf(Props.Create(() => new SupervisorActor(strategy)), "supervisor");
        IActorRef counter = await supervisor.Ask<IActorRef>(new ChildRequested(Props.Create(() => new CounterActor(probe)), "counter"), TestProbe.DefaultWait);
        Assert.Equal("PreStart", await ((TestProbe)probe).ExpectMsgAsync<string>());
        return counter;
    }

    private static Task<int> CountOf(IActorRef counter) => counter.Ask<int>(new CountRequested(), TestProbe.DefaultWait);

    [Fact]
    public async Task Resume_keeps_the_instance_and_its_state_and_skips_the_failed_message()
    {
        await using var system = ActorSystem.Create("resume");
        var probe = new TestProbe(system);
        IActorRef counter = await SuperviseCounter(system, probe, new OneForOneStrategy(Decide));

        counter.Tell(new Increment());
        counter.Tell(new FailWith(new ResumableFailure("oops")));
        counter.Tell(new Increment());
        Assert.Equal(2, await CountOf(counter));
        Assert.Equal(0, probe.PendingCount); // no restart hooks ran
    }

    [Fact]
    public async Task Restart_makes_a_new_instance_runs_the_hooks_in_order_and_keeps_the_mailbox()
    {
        await using var system = ActorSystem.Create("restart");
        var probe = new TestProbe(system);
        IActorRef counter = await SuperviseCounter(system, probe, new OneForOneStrategy(Decide));

        counter.Tell(new Increment());
        counter.Tell(new Increment());
        counter.Tell(new FailWith(new RestartableFailure("boom")));
        counter.Tell(new Increment()); // queued behind the failure: must survive the restart
        Assert.Equal(1, await CountOf(counter));

        Assert.Equal("PreRestart boom while FailWith", await probe.ExpectMsgAsync<string>());
        Assert.Equal("PostStop", await probe.ExpectMsgAsync<string>());
        Assert.Equal("PostRestart boom", await probe.ExpectMsgAsync<string>());
        Assert.Equal("PreStart", await probe.ExpectMsgAsync<string>());
    }

    [Fact]
    public async Task Stop_ends_the_child_and_its_later_messages_become_dead_letters()
    {
        await using var system = ActorSystem.Create("stop");
        var probe = new TestProbe(system);
        IActorRef counter = await SuperviseCounter(system, probe, new OneForOneStrategy(Decide));
        var deadLetters = new TestProbe(system, "dead");
        system.EventStream.Subscribe(deadLetters, typeof(DeadLetter));
        probe.Watch(counter);

        counter.Tell(new FailWith(new StoppingFailure("fatal")));
        Assert.Equal("PostStop", await probe.ExpectMsgAsync<string>());
        Assert.Same(counter, (await probe.ExpectMsgAsync<Terminated>()).ActorRef);
        counter.Tell(new Increment());
        Assert.IsType<Increment>((await deadLetters.ExpectMsgAsync<DeadLetter>()).Message);
    }

    [Fact]
    public async Task The_default_strategy_restarts_on_ordinary_exceptions_and_reports_each_failure()
    {
        await using var system = ActorSystem.Create("default-strategy");
        var probe = new TestProbe(system);
        var errors = new TestProbe(system, "errors");
        system.EventStream.Subscribe(errors, typeof(ActorError));
        IActorRef counter = system.ActorOf(Props.Create(() => new CounterActor(probe)), "counter");
        Assert.Equal("PreStart", await probe.ExpectMsgAsync<string>());

        counter.Tell(new Increment());
        counter.Tell(new FailWith(new InvalidOperationException("bad input")));
        Assert.Equal(0, await CountOf(counter));
        ActorError error = await errors.ExpectMsgAsync<ActorError>();
        Assert.Same(counter, error.Actor);
        Assert.Equal("bad input", error.Cause.Message);
        Assert.Contains("Restart", error.Description);
    }

    /// <summary>A supervisor that reports its own restart.</summary>
    private sealed class ReportingSupervisor(SupervisorStrategy strategy, IActorRef probe) : ReceiveActor
    {
        protected override void PreStart() => Become(() =>
            Receive<ChildRequested>(request => Sender.Tell(Context.ActorOf(request.Props, request.Name), Self)));

        protected override void PostRestart(Exception reason)
        {
            probe.Tell($"supervisor restarted: {reason.Message}", Self);
            base.PostRestart(reason);
        }

        protected override SupervisorStrategy SupervisorStrategy() => strategy;
    }

    [Fact]
    public async Task Escalate_hands_the_failure_to_the_grandparent_whose_restart_replaces_the_subtree()
    {
        await using var system = ActorSystem.Create("escalate");
        var probe = new TestProbe(system);
        IActorRef supervisor = system.ActorOf(Props.Create(() => new ReportingSupervisor(new OneForOneStrategy(Decide), probe)), "supervisor");
        IActorRef counter = await supervisor.Ask<IActorRef>(new ChildRequested(Props.Create(() => new CounterActor(probe)), "counter"), TestProbe.DefaultWait);
        Assert.Equal("PreStart", await probe.ExpectMsgAsync<string>());
        probe.Watch(counter);

        // The supervisor escalates to the user guardian, whose default strategy restarts the supervisor;
        // its default PreRestart stops the counter before the new supervisor instance starts.
        counter.Tell(new FailWith(new EscalatingFailure("up")));
        Assert.Equal("PostStop", await probe.ExpectMsgAsync<string>());
        Assert.Same(counter, (await probe.ExpectMsgAsync<Terminated>()).ActorRef);
        Assert.Equal("supervisor restarted: up", await probe.ExpectMsgAsync<string>());

        IActorRef again = await supervisor.Ask<IActorRef>(new ChildRequested(Props.Create(() => new CounterActor(probe)), "counter"), TestProbe.DefaultWait);
        Assert.Equal("PreStart", await probe.ExpectMsgAsync<string>());
        Assert.NotSame(counter, again);
        Assert.Equal(counter.Path, again.Path);
        Assert.Equal(0, await CountOf(again));
    }

    [Fact]
    public async Task A_restart_beyond_the_retry_budget_stops_the_child()
    {
        await using var system = ActorSystem.Create("budget");
        var probe = new TestProbe(system);
        IActorRef counter = await SuperviseCounter(system, probe, new OneForOneStrategy(2, Timeout.InfiniteTimeSpan, Decide));
        probe.Watch(counter);

        for (int attempt = 1; attempt <= 2; attempt++)
        {
            counter.Tell(new FailWith(new RestartableFailure($"#{attempt}")));
            Assert.Equal($"PreRestart #{attempt} while FailWith", await probe.ExpectMsgAsync<string>());
            Assert.Equal("PostStop", await probe.ExpectMsgAsync<string>());
            Assert.Equal($"PostRestart #{attempt}", await probe.ExpectMsgAsync<string>());
            Assert.Equal("PreStart", await probe.ExpectMsgAsync<string>());
        }
        counter.Tell(new FailWith(new RestartableFailure("#3")));
        Assert.Equal("PostStop", await probe.ExpectMsgAsync<string>());
        Assert.Same(counter, (await probe.ExpectMsgAsync<Terminated>()).ActorRef);
    }

    [Fact]
    public async Task The_retry_window_is_measured_on_the_injected_clock_and_a_new_window_restores_the_budget()
    {
        var clock = new ManualTimeProvider();
        await using var system = ActorSystem.Create("window", clock);
        var probe = new TestProbe(system);
        IActorRef counter = await SuperviseCounter(system, probe, new OneForOneStrategy(1, TimeSpan.FromMinutes(1), Decide));
        probe.Watch(counter);

        async Task FailAndExpectRestart(string label)
        {
            counter.Tell(new FailWith(new RestartableFailure(label)));
            Assert.Equal($"PreRestart {label} while FailWith", await probe.ExpectMsgAsync<string>());
            Assert.Equal("PostStop", await probe.ExpectMsgAsync<string>());
            Assert.Equal($"PostRestart {label}", await probe.ExpectMsgAsync<string>());
            Assert.Equal("PreStart", await probe.ExpectMsgAsync<string>());
        }

        await FailAndExpectRestart("first");
        clock.Advance(TimeSpan.FromMinutes(2)); // the window has passed: the budget is fresh
        await FailAndExpectRestart("second");
        clock.Advance(TimeSpan.FromSeconds(30));
        counter.Tell(new FailWith(new RestartableFailure("third"))); // second restart within one minute: over budget
        Assert.Equal("PostStop", await probe.ExpectMsgAsync<string>());
        Assert.Same(counter, (await probe.ExpectMsgAsync<Terminated>()).ActorRef);
    }

    private sealed class FailsToStart : ReceiveActor
    {
        protected override void PreStart() => throw new InvalidOperationException("no database");
    }

    [Fact]
    public async Task An_actor_that_cannot_start_is_stopped_and_the_system_lives_on()
    {
        await using var system = ActorSystem.Create("init-failure");
        var probe = new TestProbe(system);
        system.EventStream.Subscribe(probe, typeof(ActorError));
        IActorRef broken = system.ActorOf(Props.Create(() => new FailsToStart()), "broken");
        probe.Watch(broken);

        ActorError error = await probe.ExpectMsgAsync<ActorError>();
        var cause = Assert.IsType<ActorInitializationException>(error.Cause);
        Assert.Contains("no database", cause.Message);
        Assert.Contains("/user/broken", cause.Message);
        Assert.Contains("Stop", error.Description);
        Assert.Same(broken, (await probe.ExpectMsgAsync<Terminated>()).ActorRef);

        IActorRef healthy = system.ActorOf(Props.Create(() => new CounterActor(probe)));
        Assert.Equal("PreStart", await probe.ExpectMsgAsync<string>());
        Assert.Equal(0, await CountOf(healthy));
    }

    [Fact]
    public async Task A_failing_async_handler_is_supervised_like_a_synchronous_one()
    {
        await using var system = ActorSystem.Create("async-failure");
        var probe = new TestProbe(system);
        IActorRef actor = system.ActorOf(Props.Create(() => new AsyncFailing(probe)));
        Assert.Equal("PreStart", await probe.ExpectMsgAsync<string>());
        actor.Tell(new Increment());
        actor.Tell(new FailWith(new InvalidOperationException("later")));
        Assert.Equal(0, await CountOf(actor)); // restarted by the guardian's default strategy
        Assert.Equal("PreStart", await probe.ExpectMsgAsync<string>());
    }

    private sealed class AsyncFailing : ReceiveActor
    {
        private readonly IActorRef probe;
        private int count;

        public AsyncFailing(IActorRef probe)
        {
            this.probe = probe;
            Receive<Increment>(_ => count++);
            Receive<CountRequested>(_ => Sender.Tell(count, Self));
            ReceiveAsync<FailWith>(async fail =>
            {
                await Task.Yield();
                throw fail.Cause;
            });
        }

        protected override void PreStart() => probe.Tell("PreStart", Self);
    }

    [Fact]
    public async Task Kill_makes_the_actor_fail_and_the_default_strategy_stops_it()
    {
        await using var system = ActorSystem.Create("kill");
        var probe = new TestProbe(system);
        IActorRef counter = system.ActorOf(Props.Create(() => new CounterActor(probe)), "counter");
        Assert.Equal("PreStart", await probe.ExpectMsgAsync<string>());
        probe.Watch(counter);

        counter.Tell(new Increment());
        counter.Tell(Kill.Instance);
        Assert.Equal("PostStop", await probe.ExpectMsgAsync<string>());
        Assert.Same(counter, (await probe.ExpectMsgAsync<Terminated>()).ActorRef);
    }
}

using ParallelNet.Testing;
using ParallelNet.Actors.Tests.Support;

namespace ParallelNet.Actors.Tests;

public sealed class StopTests
{
    private sealed record WorkRequested(int Id);
    private sealed record StopYourself;

    /// <summary>Reports start and finish of each work item; the finish waits for a gate, synchronously or not.</summary>
    private sealed class GatedWorker : ReceiveActor
    {
        public GatedWorker(IActorRef probe, TaskCompletionSource gate, bool asynchronous)
        {
            if (asynchronous)
            {
                ReceiveAsync<WorkRequested>(async work =>
                {
                    probe.Tell($"started {work.Id}", Self);
                    await gate.Task;
                    probe.Tell($"finished {work.Id}", Self);
                });
            }
            else
            {
                Receive<WorkRequested>(work =>
                {
                    probe.Tell($"started {work.Id}", Self);
                    gate.Task.Wait();
                    probe.Tell($"finished {work.Id}", Self);
                });
            }
            Receive<StopYourself>(_ => Context.Stop(Self));
        }
    }

    private static TaskCompletionSource NewGate() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Stopping_a_busy_actor_lets_the_current_message_finish_and_dead_letters_the_rest(bool asynchronous)
    {
        await using var system = ActorSystem.Create("stop-busy");
        var probe = new TestProbe(system);
        var deadLetters = new TestProbe(system, "dead");
        system.EventStream.Subscribe(deadLetters, typeof(DeadLetter));
        TaskCompletionSource gate = NewGate();
        IActorRef worker = system.ActorOf(Props.Create(() => new GatedWorker(probe, gate, asynchronous)), "worker");
        probe.Watch(worker);

        for (int id = 1; id <= 3; id++) worker.Tell(new WorkRequested(id));
        Assert.Equal("started 1", await probe.ExpectMsgAsync<string>());
        system.Stop(worker);
        gate.SetResult();

        Assert.Equal("finished 1", await probe.ExpectMsgAsync<string>());
        Assert.Same(worker, (await probe.ExpectMsgAsync<Terminated>()).ActorRef);
        Assert.Equal(new WorkRequested(2), (await deadLetters.ExpectMsgAsync<DeadLetter>()).Message);
        Assert.Equal(new WorkRequested(3), (await deadLetters.ExpectMsgAsync<DeadLetter>()).Message);
        worker.Tell(new WorkRequested(4));
        DeadLetter late = await deadLetters.ExpectMsgAsync<DeadLetter>();
        Assert.Equal(new WorkRequested(4), late.Message);
        Assert.Same(worker, late.Recipient);
        Assert.Equal(0, probe.PendingCount);
    }

    [Fact]
    public async Task PoisonPill_is_processed_in_order_and_Context_Stop_takes_effect_after_the_current_message()
    {
        await using var system = ActorSystem.Create("poison");
        var probe = new TestProbe(system);
        var deadLetters = new TestProbe(system, "dead");
        system.EventStream.Subscribe(deadLetters, typeof(DeadLetter));
        TaskCompletionSource open = NewGate();
        open.SetResult();

        IActorRef poisoned = system.ActorOf(Props.Create(() => new GatedWorker(probe, open, false)), "poisoned");
        poisoned.Tell(new WorkRequested(1));
        poisoned.Tell(PoisonPill.Instance);
        poisoned.Tell(new WorkRequested(2));
        Assert.Equal("started 1", await probe.ExpectMsgAsync<string>());
        Assert.Equal("finished 1", await probe.ExpectMsgAsync<string>());
        Assert.Equal(new WorkRequested(2), (await deadLetters.ExpectMsgAsync<DeadLetter>()).Message);

        IActorRef selfStopping = system.ActorOf(Props.Create(() => new GatedWorker(probe, open, false)), "self-stopping");
        probe.Watch(selfStopping);
        selfStopping.Tell(new StopYourself());
        selfStopping.Tell(new WorkRequested(3));
        Assert.Same(selfStopping, (await probe.ExpectMsgAsync<Terminated>()).ActorRef);
        Assert.Equal(new WorkRequested(3), (await deadLetters.ExpectMsgAsync<DeadLetter>()).Message);
    }

    [Fact]
    public async Task GracefulStop_is_true_once_stopped_and_false_when_the_actor_is_still_busy_at_the_timeout()
    {
        var clock = new ManualTimeProvider();
        await using var system = ActorSystem.Create("graceful", clock);
        var probe = new TestProbe(system);
        TaskCompletionSource gate = NewGate();
        IActorRef worker = system.ActorOf(Props.Create(() => new GatedWorker(probe, gate, true)), "worker");

        worker.Tell(new WorkRequested(1));
        Assert.Equal("started 1", await probe.ExpectMsgAsync<string>());
        Task<bool> stopping = worker.GracefulStop(TimeSpan.FromSeconds(3));
        clock.Advance(TimeSpan.FromSeconds(3));
        Assert.False(await stopping.WaitAsync(TestProbe.DefaultWait));

        Task<bool> secondTry = worker.GracefulStop(TimeSpan.FromSeconds(3));
        gate.SetResult();
        Assert.True(await secondTry.WaitAsync(TestProbe.DefaultWait));
        Assert.True(await worker.GracefulStop(TimeSpan.FromSeconds(3)).WaitAsync(TestProbe.DefaultWait)); // already dead: true at once
    }

    private sealed record SpawnRequested(string Name);

    /// <summary>Reports its PostStop; spawns children of its own kind on request.</summary>
    private sealed class TreeNode(IActorRef probe) : ReceiveActor
    {
        protected override void PreStart() => Become(() =>
            Receive<SpawnRequested>(spawn => Sender.Tell(Context.ActorOf(Props.Create(() => new TreeNode(probe)), spawn.Name), Self)));

        protected override void PostStop()
        {
            probe.Tell(Self.Path.ToString(), Self);
            if (Self.Path.Name == "faulty") throw new InvalidOperationException("PostStop bug");
        }
    }

    [Fact]
    public async Task Terminate_stops_children_before_parents_survives_faulty_hooks_and_completes_WhenTerminated()
    {
        var system = ActorSystem.Create("terminate");
        var probe = new TestProbe(system);
        var errors = new TestProbe(system, "errors");
        system.EventStream.Subscribe(errors, typeof(ActorError));
        TimeSpan wait = TestProbe.DefaultWait;

        IActorRef root = system.ActorOf(Props.Create(() => new TreeNode(probe)), "root");
        IActorRef left = await root.Ask<IActorRef>(new SpawnRequested("left"), wait);
        await root.Ask<IActorRef>(new SpawnRequested("faulty"), wait);
        await left.Ask<IActorRef>(new SpawnRequested("leaf"), wait);
        IActorRef other = system.ActorOf(Props.Create(() => new TreeNode(probe)), "other");

        await system.Terminate().WaitAsync(wait);
        Assert.True(system.WhenTerminated.IsCompletedSuccessfully);

        var stopped = new List<string>();
        for (int i = 0; i < 5; i++) stopped.Add(await probe.ExpectMsgAsync<string>());
        string[] expected = ["pn://terminate/user/root", "pn://terminate/user/root/left", "pn://terminate/user/root/left/leaf", "pn://terminate/user/root/faulty", "pn://terminate/user/other"];
        Assert.Equal(expected.Order(), stopped.Order());
        Assert.True(stopped.IndexOf(expected[2]) < stopped.IndexOf(expected[1]));
        Assert.True(stopped.IndexOf(expected[1]) < stopped.IndexOf(expected[0]));
        Assert.True(stopped.IndexOf(expected[3]) < stopped.IndexOf(expected[0]));
        Assert.Equal("PostStop bug", (await errors.ExpectMsgAsync<ActorError>()).Cause.Message);

        var refused = Assert.Throws<InvalidOperationException>(() => system.ActorOf(Props.Create(() => new TreeNode(probe))));
        Assert.Contains("is terminating", refused.Message);
        Assert.NotNull(other);
    }
}

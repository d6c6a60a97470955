using ParallelNet.Actors.Tests.Support;

namespace ParallelNet.Actors.Tests;

public sealed class MessagingTests
{
    private sealed record RecordValue(int SenderId, int Sequence);
    private sealed record ReportRequested;
    private sealed record WorkRequested(int Id);
    private sealed record WorkDone(int Id, int MaxConcurrentEntries);
    private sealed record Greet(string Name);
    private sealed record Greeted(string Text);
    private sealed record SwitchMood;
    private sealed record RestoreMood;

    /// <summary>Records every value; replies with the list on request.</summary>
    private sealed class RecordingActor : ReceiveActor
    {
        private readonly List<RecordValue> values = [];

        public RecordingActor()
        {
            Receive<RecordValue>(values.Add);
            Receive<ReportRequested>(_ => Sender.Tell(values.ToArray(), Self));
        }
    }

    [Fact]
    public async Task Messages_from_one_sender_arrive_in_send_order_while_many_senders_tell_at_once()
    {
        await using var system = ActorSystem.Create("ordering");
        IActorRef recorder = system.ActorOf(Props.Create(() => new RecordingActor()), "recorder");
        const int senders = 8, perSender = 5000;

        using var start = new Barrier(senders);
        Task[] tellers = Enumerable.Range(0, senders).Select(id => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            for (int sequence = 0; sequence < perSender; sequence++) recorder.Tell(new RecordValue(id, sequence));
        }, TaskCreationOptions.LongRunning)).ToArray();
        await Task.WhenAll(tellers).WaitAsync(TestProbe.DefaultWait);

        RecordValue[] received = await recorder.Ask<RecordValue[]>(new ReportRequested(), TestProbe.DefaultWait);
        Assert.Equal(senders * perSender, received.Length);
        for (int id = 0; id < senders; id++)
        {
            int[] sequence = received.Where(v => v.SenderId == id).Select(v => v.Sequence).ToArray();
            Assert.Equal(Enumerable.Range(0, perSender), sequence);
        }
    }

    /// <summary>Counts how many threads are inside a handler at once; the kernel must keep that at one.</summary>
    private sealed class EntryCountingActor(bool asynchronous) : ReceiveActor
    {
        private int inside;
        private int maxInside;

        private void Enter() => maxInside = Math.Max(maxInside, Interlocked.Increment(ref inside));
        private void Leave() => Interlocked.Decrement(ref inside);

        protected override void PreStart()
        {
            if (asynchronous)
            {
                Become(() => ReceiveAsync<WorkRequested>(async work =>
                {
                    Enter();
                    await Task.Yield(); // the rest runs on another pool thread, still alone in the actor
                    Thread.SpinWait(200);
                    Leave();
                    Sender.Tell(new WorkDone(work.Id, maxInside), Self);
                }));
            }
            else
            {
                Become(() => Receive<WorkRequested>(work =>
                {
                    Enter();
                    Thread.SpinWait(200);
                    Leave();
                    Sender.Tell(new WorkDone(work.Id, maxInside), Self);
                }));
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_handler_is_never_entered_by_two_threads_at_once(bool asynchronous)
    {
        await using var system = ActorSystem.Create("one-at-a-time");
        var probe = new TestProbe(system);
        IActorRef actor = system.ActorOf(Props.Create(() => new EntryCountingActor(asynchronous)));
        const int senders = 4, perSender = 250;

        Task[] tellers = Enumerable.Range(0, senders).Select(s => Task.Run(() =>
        {
            for (int i = 0; i < perSender; i++) actor.Tell(new WorkRequested(s * perSender + i), probe);
        })).ToArray();
        await Task.WhenAll(tellers).WaitAsync(TestProbe.DefaultWait);

        var done = new List<WorkDone>();
        for (int i = 0; i < senders * perSender; i++) done.Add(await probe.ExpectMsgAsync<WorkDone>());
        Assert.All(done, d => Assert.Equal(1, d.MaxConcurrentEntries));
        Assert.Equal(Enumerable.Range(0, senders * perSender), done.Select(d => d.Id).Order());
    }

    private sealed record GateOpened;

    /// <summary>Its async handler waits for a gate; the next message must wait with it.</summary>
    private sealed class GatedActor(TaskCompletionSource gate, IActorRef probe) : ReceiveActor
    {
        protected override void PreStart()
        {
            Become(() =>
            {
                ReceiveAsync<WorkRequested>(async work =>
                {
                    probe.Tell($"started {work.Id}", Self);
                    await gate.Task;
                    probe.Tell($"finished {work.Id}", Self);
                });
            });
        }
    }

    [Fact]
    public async Task ReceiveAsync_keeps_the_mailbox_blocked_until_its_task_completes()
    {
        await using var system = ActorSystem.Create("async-blocks");
        var probe = new TestProbe(system);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        IActorRef actor = system.ActorOf(Props.Create(() => new GatedActor(gate, probe)));

        actor.Tell(new WorkRequested(1));
        actor.Tell(new WorkRequested(2));
        Assert.Equal("started 1", await probe.ExpectMsgAsync<string>());
        Assert.Equal(0, probe.PendingCount); // message 2 is queued behind the pending task, not started
        gate.SetResult();
        Assert.Equal("finished 1", await probe.ExpectMsgAsync<string>());
        Assert.Equal("started 2", await probe.ExpectMsgAsync<string>());
        Assert.Equal("finished 2", await probe.ExpectMsgAsync<string>());
    }

    /// <summary>Greets politely, or rudely after SwitchMood; RestoreMood pops back.</summary>
    private sealed class MoodyActor : ReceiveActor
    {
        public MoodyActor()
        {
            Become(Polite); // the Akka idiom for naming the initial behavior
        }

        private void Polite()
        {
            Receive<Greet>(greet => Sender.Tell(new Greeted($"Hello, {greet.Name}"), Self));
            Receive<SwitchMood>(_ => BecomeStacked(Rude));
        }

        private void Rude()
        {
            Receive<Greet>(greet => Sender.Tell(new Greeted($"Go away, {greet.Name}"), Self), greet => greet.Name != "boss");
            Receive<Greet>(greet => Sender.Tell(new Greeted($"Yes, {greet.Name}"), Self));
            Receive<RestoreMood>(_ => UnbecomeStacked());
        }
    }

    [Fact]
    public async Task Become_switches_handlers_from_the_next_message_and_predicates_pick_among_them()
    {
        await using var system = ActorSystem.Create("become");
        IActorRef moody = system.ActorOf(Props.Create(() => new MoodyActor()));
        TimeSpan wait = TestProbe.DefaultWait;

        Assert.Equal("Hello, ann", (await moody.Ask<Greeted>(new Greet("ann"), wait)).Text);
        moody.Tell(new SwitchMood());
        Assert.Equal("Go away, ann", (await moody.Ask<Greeted>(new Greet("ann"), wait)).Text);
        Assert.Equal("Yes, boss", (await moody.Ask<Greeted>(new Greet("boss"), wait)).Text);
        moody.Tell(new RestoreMood());
        Assert.Equal("Hello, ann", (await moody.Ask<Greeted>(new Greet("ann"), wait)).Text);
    }

    private sealed class GreeterOnly : ReceiveActor
    {
        public GreeterOnly()
        {
            Receive<Greet>(greet => Sender.Tell(new Greeted(greet.Name), Self));
        }
    }

    [Fact]
    public async Task An_unhandled_message_is_published_and_the_actor_carries_on()
    {
        await using var system = ActorSystem.Create("unhandled");
        var probe = new TestProbe(system);
        system.EventStream.Subscribe(probe, typeof(UnhandledMessage));
        IActorRef greeter = system.ActorOf(Props.Create(() => new GreeterOnly()), "greeter");

        greeter.Tell(new SwitchMood(), probe);
        UnhandledMessage unhandled = await probe.ExpectMsgAsync<UnhandledMessage>();
        Assert.IsType<SwitchMood>(unhandled.Message);
        Assert.Same(greeter, unhandled.Recipient);
        Assert.Same(probe, unhandled.Sender);
        Assert.Equal("bob", (await greeter.Ask<Greeted>(new Greet("bob"), TestProbe.DefaultWait)).Text);
    }

    private sealed class LateRegistration : ReceiveActor
    {
        public LateRegistration()
        {
            Receive<Greet>(_ =>
            {
                try
                {
                    Receive<SwitchMood>(_ => { });
                    Sender.Tell("registered", Self);
                }
                catch (InvalidOperationException ex)
                {
                    Sender.Tell(ex.Message, Self);
                }
            });
        }
    }

    private sealed class TouchesContextInConstructor : ReceiveActor
    {
        public TouchesContextInConstructor()
        {
            _ = Self;
        }
    }

    [Fact]
    public async Task Handlers_register_only_in_the_constructor_or_Become_and_Context_waits_for_PreStart()
    {
        await using var system = ActorSystem.Create("registration");
        IActorRef late = system.ActorOf(Props.Create(() => new LateRegistration()));
        string answer = await late.Ask<string>(new Greet("x"), TestProbe.DefaultWait);
        Assert.Contains("only be registered in the constructor or inside Become", answer);

        var probe = new TestProbe(system);
        system.EventStream.Subscribe<ActorError>(e => probe.Tell(e, null));
        IActorRef touching = system.ActorOf(Props.Create(() => new TouchesContextInConstructor()));
        ActorError error = await probe.ExpectMsgAsync<ActorError>();
        Assert.Same(touching, error.Actor);
        var initialization = Assert.IsType<ActorInitializationException>(error.Cause);
        Assert.Contains("not available in the constructor", initialization.InnerException!.Message);
    }
}

using ParallelNet.Actors.Tests.Support;

namespace ParallelNet.Actors.Tests;

public sealed class DispatcherTests
{
    private sealed record WhereAmI;
    private sealed record Work(int Sequence);
    private sealed record WorkDone(int Sequence, int RunningAtOnce);
    private sealed record AsyncWork;

    /// <summary>Replies with the name of the thread that ran the turn.</summary>
    private sealed class ThreadReporter : ReceiveActor
    {
        public ThreadReporter()
        {
            Receive<WhereAmI>(_ => Sender.Tell(Thread.CurrentThread.Name ?? "", Self));
            ReceiveAsync<AsyncWork>(async _ =>
            {
                await Task.Delay(1);
                Sender.Tell("async done", Self);
            });
        }
    }

    /// <summary>A slow turn that reports how many such turns (over all instances) ran at that moment.</summary>
    private sealed class Counting : ReceiveActor
    {
        public Counting(StrongBox<int> running)
        {
            Receive<Work>(w =>
            {
                int now = Interlocked.Increment(ref running.Value);
                Thread.Sleep(2); // long enough for the other dispatcher threads to take turns meanwhile
                Interlocked.Decrement(ref running.Value);
                Sender.Tell(new WorkDone(w.Sequence, now), Self);
            });
        }
    }

    private sealed class StrongBox<T>
    {
        public T Value = default!;
    }

    [Fact]
    public async Task An_actor_whose_props_name_a_dedicated_dispatcher_runs_its_turns_on_that_dispatchers_threads()
    {
        using var dispatcher = new DedicatedThreadDispatcher("compute", 2);
        await using var system = ActorSystem.Create("dedicated");
        var onDispatcher = system.ActorOf(Props.Create(() => new ThreadReporter()).WithDispatcher(dispatcher), "on-dispatcher");
        var onPool = system.ActorOf(Props.Create(() => new ThreadReporter()), "on-pool");

        string name = await onDispatcher.Ask<string>(new WhereAmI(), TestProbe.DefaultWait);
        Assert.Matches("^compute-[12]$", name);
        Assert.DoesNotMatch("^compute-", await onPool.Ask<string>(new WhereAmI(), TestProbe.DefaultWait));
    }

    [Fact]
    public async Task After_an_async_handler_the_next_turn_is_back_on_the_dispatcher()
    {
        using var dispatcher = new DedicatedThreadDispatcher("compute", 1);
        await using var system = ActorSystem.Create("dedicated-async");
        var actor = system.ActorOf(Props.Create(() => new ThreadReporter()).WithDispatcher(dispatcher), "reporter");

        Assert.Equal("async done", await actor.Ask<string>(new AsyncWork(), TestProbe.DefaultWait));
        Assert.Equal("compute-1", await actor.Ask<string>(new WhereAmI(), TestProbe.DefaultWait));
    }

    [Fact]
    public async Task No_more_of_its_actors_run_at_once_than_it_has_threads_and_every_message_is_processed()
    {
        using var dispatcher = new DedicatedThreadDispatcher("compute", 2);
        await using var system = ActorSystem.Create("bounded");
        var running = new StrongBox<int>();
        var probe = new TestProbe(system);
        var actors = Enumerable.Range(0, 6).Select(i => system.ActorOf(Props.Create(() => new Counting(running)).WithDispatcher(dispatcher), $"w{i}")).ToArray();

        const int perActor = 10;
        for (int s = 0; s < perActor; s++)
            foreach (var a in actors) a.Tell(new Work(s), probe);

        var done = new List<WorkDone>();
        for (int i = 0; i < actors.Length * perActor; i++) done.Add(await probe.ExpectMsgAsync<WorkDone>());
        Assert.All(done, d => Assert.InRange(d.RunningAtOnce, 1, 2));
    }

    [Fact]
    public async Task A_message_sent_after_the_dispatcher_is_disposed_is_still_processed()
    {
        var dispatcher = new DedicatedThreadDispatcher("compute", 1);
        await using var system = ActorSystem.Create("disposed");
        var actor = system.ActorOf(Props.Create(() => new ThreadReporter()).WithDispatcher(dispatcher), "reporter");
        Assert.Equal("compute-1", await actor.Ask<string>(new WhereAmI(), TestProbe.DefaultWait));

        dispatcher.Dispose();
        // Which thread answers is a race (the mailbox may still be finishing its turn on compute-1);
        // what matters is that the message is not lost.
        Assert.NotNull(await actor.Ask<string>(new WhereAmI(), TestProbe.DefaultWait));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(257)]
    public void A_thread_count_out_of_range_is_refused_with_the_allowed_range(int threads)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new DedicatedThreadDispatcher("compute", threads));
        Assert.Contains("1 to 256", error.Message);
    }
}

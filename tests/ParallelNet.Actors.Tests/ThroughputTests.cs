using System.Diagnostics;
using ParallelNet.Actors.Tests.Support;
using Xunit.Abstractions;

namespace ParallelNet.Actors.Tests;

/// <summary>Runs alone, so that allocation counts and rates are not polluted by the other tests.</summary>
[CollectionDefinition(nameof(MeasuredAlone), DisableParallelization = true)]
public sealed class MeasuredAlone;

[Collection(nameof(MeasuredAlone))]
public sealed class ThroughputTests(ITestOutputHelper output)
{
    private sealed class Ping
    {
        public static readonly Ping Instance = new();
    }

    private sealed class Pong
    {
        public static readonly Pong Instance = new();
    }

    private sealed record RallyStarted(IActorRef Partner, int RoundTrips, TaskCompletionSource Finished);

    /// <summary>Serves Ping and counts Pong until the rally is over; messages are shared instances, so only the kernel allocates.</summary>
    private sealed class Player : ReceiveActor
    {
        private int remaining;
        private TaskCompletionSource? finished;

        public Player()
        {
            Receive<RallyStarted>(start =>
            {
                remaining = start.RoundTrips;
                finished = start.Finished;
                start.Partner.Tell(Ping.Instance, Self);
            });
            Receive<Ping>(_ => Sender.Tell(Pong.Instance, Self));
            Receive<Pong>(_ =>
            {
                if (--remaining == 0) finished!.SetResult();
                else Sender.Tell(Ping.Instance, Self);
            });
        }
    }

    private static async Task<TimeSpan> Rally(IActorRef server, IActorRef partner, int roundTrips)
    {
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var clock = Stopwatch.StartNew();
        server.Tell(new RallyStarted(partner, roundTrips, finished));
        await finished.Task.WaitAsync(TimeSpan.FromSeconds(60));
        return clock.Elapsed;
    }

    [Fact]
    public async Task Ping_pong_throughput_is_reported_and_a_Tell_allocates_nothing_per_message()
    {
        await using var system = ActorSystem.Create("ping-pong");
        IActorRef server = system.ActorOf(Props.Create(() => new Player()), "server");
        IActorRef partner = system.ActorOf(Props.Create(() => new Player()), "partner");
        await Rally(server, partner, 20_000); // warm-up: JIT, thread pool, queue segments

        const int roundTrips = 200_000;
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        TimeSpan elapsed = await Rally(server, partner, roundTrips);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

        double messagesPerSecond = 2.0 * roundTrips / elapsed.TotalSeconds;
        double bytesPerMessage = (double)allocated / (2.0 * roundTrips);
        output.WriteLine($"ping-pong: {2 * roundTrips} messages in {elapsed.TotalMilliseconds:F0} ms = {messagesPerSecond:N0} msgs/s, {bytesPerMessage:F2} bytes allocated per message");

        // A Task, closure or boxed envelope per message would cost 40+ bytes each; the bound leaves room for the test's own bookkeeping.
        Assert.True(bytesPerMessage < 4, $"{bytesPerMessage:F2} bytes allocated per message; the Tell path should allocate nothing beyond the message.");
        // Orders of magnitude below the measured rate: fails only if something per message blocks or sleeps.
        Assert.True(messagesPerSecond > 20_000, $"ping-pong ran at {messagesPerSecond:N0} msgs/s");
    }

    private sealed class Counter(int expected, TaskCompletionSource done) : ReceiveActor
    {
        private int seen;

        protected override void PreStart() => Become(() => ReceiveAny(_ =>
        {
            if (++seen == expected) done.SetResult();
        }));
    }

    [Fact]
    public async Task Fan_in_throughput_from_several_threads_is_reported()
    {
        await using var system = ActorSystem.Create("fan-in");
        const int senders = 4, perSender = 250_000;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        IActorRef counter = system.ActorOf(Props.Create(() => new Counter(senders * perSender, done)), "counter");
        object message = Ping.Instance;

        var clock = Stopwatch.StartNew();
        Task[] tellers = Enumerable.Range(0, senders).Select(_ => Task.Run(() =>
        {
            for (int i = 0; i < perSender; i++) counter.Tell(message);
        })).ToArray();
        await Task.WhenAll(tellers).WaitAsync(TimeSpan.FromSeconds(60));
        await done.Task.WaitAsync(TimeSpan.FromSeconds(60));
        double messagesPerSecond = senders * perSender / clock.Elapsed.TotalSeconds;
        output.WriteLine($"fan-in: {senders} senders x {perSender} messages in {clock.Elapsed.TotalMilliseconds:F0} ms = {messagesPerSecond:N0} msgs/s");
        Assert.True(messagesPerSecond > 20_000, $"fan-in ran at {messagesPerSecond:N0} msgs/s");
    }
}

using ParallelNet.Testing;
using ParallelNet.Actors.Tests.Support;

namespace ParallelNet.Actors.Tests;

public sealed class AskTests
{
    private sealed record SquareRequested(int Value);
    private sealed record Squared(int Value);
    private sealed record RefusalRequested(string Reason);
    private sealed record SilenceRequested;
    private sealed record WhereAreYou;
    private sealed record InProcess(bool Answer);

    private sealed class Calculator : ReceiveActor
    {
        /// <summary>The Akka convention: an actor publishes how to make it.</summary>
        public static Props Props() => ParallelNet.Actors.Props.Create(() => new Calculator());

        public Calculator()
        {
            Receive<SquareRequested>(request => Sender.Tell(new Squared(request.Value * request.Value), Self));
            Receive<RefusalRequested>(request => Sender.Tell(new Status.Failure(new InvalidOperationException(request.Reason)), Self));
            Receive<SilenceRequested>(_ => { });
            Receive<string>(text => Sender.Tell(text.Length, Self));
            Receive<WhereAreYou>(_ => Sender.Tell(new InProcess(Sender.IsInProcess()), Self));
        }
    }

    [Fact]
    public async Task Ask_completes_with_the_reply()
    {
        await using var system = ActorSystem.Create("ask");
        IActorRef calculator = system.ActorOf(Calculator.Props(), "calculator");
        Squared reply = await calculator.Ask<Squared>(new SquareRequested(12), TestProbe.DefaultWait);
        Assert.Equal(144, reply.Value);
    }

    [Fact]
    public async Task Only_references_to_actors_of_this_process_are_in_process()
    {
        await using var system = ActorSystem.Create("in-process");
        IActorRef calculator = system.ActorOf(Calculator.Props(), "calculator");
        Assert.True(calculator.IsInProcess());
        Assert.False(system.DeadLetters.IsInProcess());
        // The temporary reply address of an Ask only completes a task: no actor reads a buffer sent to it.
        Assert.False((await calculator.Ask<InProcess>(new WhereAreYou(), TestProbe.DefaultWait)).Answer);
    }

    [Fact]
    public async Task A_Status_Failure_reply_faults_the_task_with_its_cause_and_a_wrong_type_says_so()
    {
        await using var system = ActorSystem.Create("ask-failure");
        IActorRef calculator = system.ActorOf(Calculator.Props(), "calculator");
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => calculator.Ask<Squared>(new RefusalRequested("no"), TestProbe.DefaultWait));
        Assert.Equal("no", refused.Message);
        var wrongType = await Assert.ThrowsAsync<InvalidCastException>(() => calculator.Ask<Squared>("four", TestProbe.DefaultWait));
        Assert.Contains("expected a reply of type Squared but got Int32", wrongType.Message);
    }

    [Fact]
    public async Task Ask_times_out_on_the_injected_clock_naming_the_target_and_the_timeout()
    {
        var clock = new ManualTimeProvider();
        await using var system = ActorSystem.Create("ask-timeout", clock);
        IActorRef calculator = system.ActorOf(Calculator.Props(), "calculator");

        Task<Squared> pending = calculator.Ask<Squared>(new SilenceRequested(), TimeSpan.FromSeconds(5));
        clock.Advance(TimeSpan.FromSeconds(4.9));
        Assert.False(pending.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(0.1));

        var timeout = await Assert.ThrowsAsync<AskTimeoutException>(() => pending.WaitAsync(TestProbe.DefaultWait));
        Assert.Contains("pn://ask-timeout/user/calculator", timeout.Message);
        Assert.Contains("00:00:05", timeout.Message);
        Assert.Contains("SilenceRequested", timeout.Message);
        Assert.Equal(0, clock.ActiveTimers);
    }

    [Fact]
    public async Task A_reply_disposes_the_timeout_and_cancellation_cancels_the_ask()
    {
        var clock = new ManualTimeProvider();
        await using var system = ActorSystem.Create("ask-cancel", clock);
        IActorRef calculator = system.ActorOf(Calculator.Props(), "calculator");

        await calculator.Ask<Squared>(new SquareRequested(3), TimeSpan.FromSeconds(5));
        Assert.Equal(0, clock.ActiveTimers);

        using var cancellation = new CancellationTokenSource();
        Task<Squared> pending = calculator.Ask<Squared>(new SilenceRequested(), TimeSpan.FromSeconds(5), cancellation.Token);
        cancellation.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(TestProbe.DefaultWait));
        Assert.Equal(0, clock.ActiveTimers);
    }

    [Fact]
    public async Task Ask_rejects_a_timeout_that_is_not_positive()
    {
        await using var system = ActorSystem.Create("ask-args");
        IActorRef calculator = system.ActorOf(Calculator.Props());
        // Checked synchronously, before anything is sent: the caller's bug surfaces at the call.
        Exception? thrown = Record.Exception(() => { _ = calculator.Ask<Squared>(new SquareRequested(1), TimeSpan.Zero); });
        var error = Assert.IsType<ArgumentOutOfRangeException>(thrown);
        Assert.Contains("positive timeout", error.Message);
    }
}

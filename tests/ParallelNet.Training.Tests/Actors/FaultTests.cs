using ParallelNet.Testing;
using System.Collections.Concurrent;
using ParallelNet.Training.Actors;
using ParallelNet.Training.Actors.Internal;
using static ParallelNet.Training.Tests.TrainingFixtures;

namespace ParallelNet.Training.Tests.Actors;

/// <summary>A worker lost mid-step: its blocks are recomputed elsewhere and the weights come out as if nothing happened.</summary>
public sealed class FaultTests
{
    [Theory]
    [InlineData("Throw", 3, 0)]
    [InlineData("Stop", 3, 0)]
    [InlineData("Throw", 4, 3)]
    [InlineData("Stop", 2, 1)]
    public void AWorkerLostMidStepLeavesTheWeightsUnchanged(string fault, int workers, int failing)
    {
        var kind = Enum.Parse<WorkerFaultKind>(fault);
        var data = Spirals();
        var options = Options(data, epochs: 2, shards: 4);
        var reference = Trainer(options, data).Run();
        var observer = new ConcurrentObserver();
        // Every worker takes blocks, however many cores the machine has, so the failing one is sure to have one.
        var settings = new ActorTrainerSettings { Workers = workers, ThreadsPerWorker = 1, BlocksOnlyToConcurrentWorkers = false, Fault = new WorkerFault(failing, 5, kind) };

        var summary = new ActorTrainer(options, data, settings, observer).Run();

        Assert.Equal(reference.WeightsSha256, summary.WeightsSha256);
        Assert.Equal(reference.Steps, summary.Steps);
        var lost = Assert.Single(observer.Workers, w => w.Status == WorkerStatus.Lost);
        Assert.Equal(failing, lost.Worker);
        if (kind == WorkerFaultKind.Throw) Assert.Contains("Injected fault", lost.Reason);
        // After the loss the survivors share every later step.
        Assert.DoesNotContain(observer.Workers, w => w.Worker == failing && w.Status == WorkerStatus.Working && w.Step >= 5);
    }

    [Fact]
    public async Task AWorkerThatNeverAnswersIsDroppedAtTheStepTimeout()
    {
        var data = Spirals();
        var options = Options(data, epochs: 1, shards: 4);
        var reference = Trainer(options, data).Run();
        var clock = new ManualTimeProvider();
        var observer = new ConcurrentObserver();
        var timeout = TimeSpan.FromSeconds(30);
        var settings = new ActorTrainerSettings
        {
            Workers = 3, ThreadsPerWorker = 1, BlocksOnlyToConcurrentWorkers = false, StepTimeout = timeout, Fault = new WorkerFault(0, 3, WorkerFaultKind.Hang),
        };

        var run = new ActorTrainer(options, data, settings, observer, clock).RunAsync();
        // Workers 1 and 2 finish their blocks of step 3; worker 0 swallows its block. Only then does time pass.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (observer.Workers.Count(w => w.Status == WorkerStatus.Working && w.Step == 3) < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "workers 1 and 2 never finished step 3");
            await Task.Delay(5);
        }
        Assert.False(run.IsCompleted);
        clock.Advance(timeout + TimeSpan.FromSeconds(1));
        var summary = await run.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(reference.WeightsSha256, summary.WeightsSha256);
        var lost = Assert.Single(observer.Workers, w => w.Status == WorkerStatus.Lost);
        Assert.Equal(0, lost.Worker);
        Assert.Contains("within 30 s", lost.Reason);
    }

    [Fact]
    public void LosingTheOnlyWorkerFailsTheJobWithAMessage()
    {
        var data = Spirals();
        var settings = new ActorTrainerSettings { Workers = 1, ThreadsPerWorker = 1, Fault = new WorkerFault(0, 2, WorkerFaultKind.Throw) };
        var error = Assert.Throws<TrainingException>(() => new ActorTrainer(Options(data, epochs: 1), data, settings).Run());
        Assert.Contains("Every worker", error.Message);
        Assert.Contains("checkpoint", error.Message);
    }
}

/// <summary>Records events from the coordinator's thread for a test thread to read.</summary>
internal sealed class ConcurrentObserver : ITrainingObserver
{
    private readonly ConcurrentQueue<WorkerActivity> _workers = new();
    private readonly ConcurrentQueue<StepCompleted> _steps = new();
    private readonly ConcurrentQueue<string> _notices = new();
    public IReadOnlyList<string> Notices => _notices.ToArray();
    public void OnNotice(string message) => _notices.Enqueue(message);
    public IReadOnlyList<WorkerActivity> Workers => _workers.ToArray();
    public IReadOnlyList<StepCompleted> Steps => _steps.ToArray();
    public Action<StepCompleted>? AfterStep { get; init; }
    public void OnWorker(WorkerActivity activity) => _workers.Enqueue(activity);
    public void OnStep(StepCompleted step)
    {
        _steps.Enqueue(step);
        AfterStep?.Invoke(step);
    }
}

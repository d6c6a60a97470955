using ParallelNet.Actors;
using ParallelNet.Training.Actors;
using ParallelNet.Training.Actors.Internal;
using static ParallelNet.Training.Tests.TrainingFixtures;

namespace ParallelNet.Training.Tests.Actors;

/// <summary>In-process workers beyond what the dispatcher runs at once stand by: same weights, and they step in for a lost worker.</summary>
public sealed class StandbyWorkerTests
{
    [Theory]
    [InlineData(true, 2)]
    [InlineData(false, 4)]
    public void FourWorkersOnTwoThreadsGiveThePlainLoopsWeightsWithBlocksForAsManyAsRunAtOnce(bool onlyConcurrent, int expectedTakers)
    {
        var data = Spirals();
        var options = Options(data, epochs: 1, shards: 4);
        var reference = Trainer(options, data).Run();
        using var dispatcher = new DedicatedThreadDispatcher("standby-test", 2);
        var observer = new ConcurrentObserver();
        var settings = new ActorTrainerSettings { Workers = 4, ThreadsPerWorker = 1, Dispatcher = dispatcher, BlocksOnlyToConcurrentWorkers = onlyConcurrent };

        var summary = new ActorTrainer(options, data, settings, observer).Run();

        Assert.Equal(reference.WeightsSha256, summary.WeightsSha256);
        var takers = observer.Workers.Where(w => w.Status == WorkerStatus.Working).Select(w => w.Worker).Distinct().Order().ToList();
        Assert.Equal(Enumerable.Range(0, expectedTakers), takers);
    }

    [Fact]
    public void AStandbyWorkerTakesTheBlocksOfALostOneAndTheWeightsStayTheSame()
    {
        var data = Spirals();
        var options = Options(data, epochs: 2, shards: 4);
        var reference = Trainer(options, data).Run();
        using var dispatcher = new DedicatedThreadDispatcher("standby-test", 2);
        var observer = new ConcurrentObserver();
        var settings = new ActorTrainerSettings { Workers = 3, ThreadsPerWorker = 1, Dispatcher = dispatcher, Fault = new WorkerFault(0, 5, WorkerFaultKind.Throw) };

        var summary = new ActorTrainer(options, data, settings, observer).Run();

        Assert.Equal(reference.WeightsSha256, summary.WeightsSha256);
        Assert.Equal(0, Assert.Single(observer.Workers, w => w.Status == WorkerStatus.Lost).Worker);
        Assert.DoesNotContain(observer.Workers, w => w.Worker == 2 && w.Status == WorkerStatus.Working && w.Step < 5);
        Assert.Contains(observer.Workers, w => w.Worker == 2 && w.Status == WorkerStatus.Working && w.Step > 5);
    }
}

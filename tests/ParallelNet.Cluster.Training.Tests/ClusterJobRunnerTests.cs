using ParallelNet.Training;
using ParallelNet.Training.Jobs;
using static ParallelNet.Cluster.Training.Tests.ClusterFixture;

namespace ParallelNet.Cluster.Training.Tests;

/// <summary>A coordinator node and worker nodes in one process, talking over loopback gRPC.</summary>
public sealed class ClusterJobRunnerTests
{
    [Fact]
    public async Task TwoWorkerNodesTrainToThePlainLoopsWeights()
    {
        var data = Spirals();
        var options = Options(data);
        string reference = Reference(options, data);
        await using var coordinator = await ClusterNode.StartAsync(NodeOptions("coordinator", WorkerHost.CoordinatorRole));
        await using var first = await StartWorkerAsync(coordinator, "worker-a");
        await using var second = await StartWorkerAsync(coordinator, "worker-b");
        var runner = new ClusterJobRunner(() => coordinator, new ClusterJobSettings { MinWorkers = 2, WorkerWaitTimeout = TimeSpan.FromSeconds(60) });
        var observer = new RecordingObserver();

        var summary = await runner.RunAsync(new JobRun("cluster-1", options, "spirals", data, 0, observer), CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(2));

        Assert.Equal(reference, summary.WeightsSha256);
        Assert.Equal(2, observer.Workers.Where(w => w.Status == WorkerStatus.Working).Select(w => w.Name).Distinct().Count());
    }

    [Fact]
    public async Task AWorkerNodeThatLeavesMidJobChangesNothingAndTheNextJobUsesTheRest()
    {
        var data = Spirals();
        var options = Options(data, epochs: 3);
        string reference = Reference(options, data);
        await using var coordinator = await ClusterNode.StartAsync(NodeOptions("coordinator", WorkerHost.CoordinatorRole));
        await using var staying = await StartWorkerAsync(coordinator, "staying");
        var leaving = await StartWorkerAsync(coordinator, "leaving");
        var runner = new ClusterJobRunner(() => coordinator, new ClusterJobSettings { MinWorkers = 2, WorkerWaitTimeout = TimeSpan.FromSeconds(60) });
        var observer = new RecordingObserver();

        var run = runner.RunAsync(new JobRun("cluster-2", options, "spirals", data, 0, observer), CancellationToken.None);
        await WaitUntilAsync(() => observer.Steps.Count >= 5, "five steps are done");
        await leaving.DisposeAsync();
        var summary = await run.WaitAsync(TimeSpan.FromMinutes(2));

        Assert.Equal(reference, summary.WeightsSha256);
        Assert.Single(observer.Workers, w => w.Status == WorkerStatus.Lost);

        var again = await new ClusterJobRunner(() => coordinator, new ClusterJobSettings { WorkerWaitTimeout = TimeSpan.FromSeconds(60) })
            .RunAsync(new JobRun("cluster-3", options with { MaxSteps = 3 }, "spirals", data, 0), CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Equal(3, again.Steps);
    }
}

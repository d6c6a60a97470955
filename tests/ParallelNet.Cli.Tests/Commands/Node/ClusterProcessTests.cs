using System.Net.Sockets;
using ParallelNet.Testing;

namespace ParallelNet.Cli.Tests.Commands.Node;

/// <summary>
/// A coordinator and worker processes on 127.0.0.1: the job's weights equal `train --workers 1` whatever
/// happens to the processes (workers killed, joining late, the coordinator killed and restarted).
/// </summary>
public sealed class ClusterProcessTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(4);
    private readonly string _directory = Directory.CreateTempSubdirectory("pn-cluster-").FullName;
    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static string[] SpiralsJob => ["--model", "mlp", "--data", "spirals", "--batch-size", "32", "--max-steps", "12"];

    private static string[] MnistJob(int steps) => ["--model", "mlp", "--data", "mnist", "--data-dir", TestData.RequireMnistDirectory(), "--max-steps", steps.ToString(System.Globalization.CultureInfo.InvariantCulture)];

    private static string ReferenceHash(string[] job)
    {
        var result = CliRunner.Run(["train", .. job, "--workers", "1", "--json"]);
        Assert.True(result.ExitCode == 0, result.Error);
        return result.Summary.GetProperty("weights_sha256").GetString()!;
    }

    [Fact]
    public async Task ACoordinatorAndTwoWorkerProcessesTrainToTheSingleProcessWeights()
    {
        await using var cluster = new ClusterProcesses(_directory);
        cluster.StartWorker();
        cluster.StartWorker();
        var coordinator = cluster.StartCoordinator([.. SpiralsJob, "--min-workers", "2"]);
        int exit = await coordinator.WaitForExitAsync(Patience);
        Assert.True(exit == 0, $"the coordinator exited with {exit}:\n{cluster.Logs()}");
        Assert.Equal(ReferenceHash(SpiralsJob), coordinator.SummaryHash());
        Assert.Contains("2 live workers", coordinator.Error);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task ThreeWorkerProcessesTrainMnistMlpToTheSingleProcessWeights()
    {
        var job = MnistJob(30);
        await using var cluster = new ClusterProcesses(_directory);
        for (int i = 0; i < 3; i++) cluster.StartWorker(extra: ["--data-dir", TestData.RequireMnistDirectory()]);
        var coordinator = cluster.StartCoordinator([.. job, "--min-workers", "3"]);
        Assert.Equal(0, await coordinator.WaitForExitAsync(Patience));
        Assert.Equal(ReferenceHash(job), coordinator.SummaryHash());
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task AWorkerKilledMidJobChangesNothing()
    {
        var job = MnistJob(60);
        await using var cluster = new ClusterProcesses(_directory);
        var doomed = cluster.StartWorker(extra: ["--data-dir", TestData.RequireMnistDirectory()]);
        cluster.StartWorker(extra: ["--data-dir", TestData.RequireMnistDirectory()]);
        var coordinator = cluster.StartCoordinator([.. job, "--min-workers", "2"]);
        await coordinator.WaitForLogAsync("Step 10 done", Patience);
        doomed.Kill();
        Assert.Equal(0, await coordinator.WaitForExitAsync(Patience));
        Assert.Equal(ReferenceHash(job), coordinator.SummaryHash());
        Assert.Contains("Lost", coordinator.Error);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task AWorkerJoiningMidJobTakesPartAndChangesNothing()
    {
        // Long enough that the second process can start, load MNIST and join while steps remain: mlp steps take
        // 10-40 ms here, and 50 steps ended before a loaded machine had the second worker up.
        var job = MnistJob(400);
        await using var cluster = new ClusterProcesses(_directory);
        cluster.StartWorker(extra: ["--data-dir", TestData.RequireMnistDirectory()]);
        var coordinator = cluster.StartCoordinator([.. job, "--min-workers", "1"]);
        await coordinator.WaitForLogAsync("Step 10 done", Patience);
        cluster.StartWorker(extra: ["--data-dir", TestData.RequireMnistDirectory()]);
        Assert.Equal(0, await coordinator.WaitForExitAsync(Patience));
        Assert.Equal(ReferenceHash(job), coordinator.SummaryHash());
        Assert.Equal(2, coordinator.Error.Split('\n').Count(l => l.Contains(" Joined at step", StringComparison.Ordinal)));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task AKilledCoordinatorRestartsFromItsCheckpointAndTheWorkersReconnect()
    {
        var job = MnistJob(60);
        string checkpoint = Path.Combine(_directory, "job.safetensors");
        string[] coordinatorArgs = [.. job, "--min-workers", "2", "--checkpoint", checkpoint, "--checkpoint-every", "10"];
        await using var cluster = new ClusterProcesses(_directory);
        cluster.StartWorker(extra: ["--data-dir", TestData.RequireMnistDirectory()]);
        cluster.StartWorker(extra: ["--data-dir", TestData.RequireMnistDirectory()]);
        var first = cluster.StartCoordinator(coordinatorArgs);
        await first.WaitForLogAsync("Step 30 done", Patience);
        first.Kill();
        Assert.True(File.Exists(checkpoint), "no checkpoint was written before the kill");
        var second = cluster.StartCoordinator(coordinatorArgs);
        Assert.Equal(0, await second.WaitForExitAsync(Patience));
        Assert.Contains("Resuming job from", second.Error);
        Assert.Equal(ReferenceHash(job), second.SummaryHash());
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task AWorkerWithTheWrongTokenIsRefusedAndGarbageOnThePortHarmsNothing()
    {
        await using var cluster = new ClusterProcesses(_directory);
        var intruder = cluster.StartWorker(token: "wrong-token");
        var coordinator = cluster.StartCoordinator([.. SpiralsJob, "--min-workers", "1", "--worker-wait-seconds", "60"]);
        await coordinator.WaitForLogAsync("Refused", Patience);
        await intruder.WaitForLogAsync("refused", Patience);
        for (int i = 0; i < 3; i++)
        {
            using var garbage = new TcpClient();
            await garbage.ConnectAsync("127.0.0.1", cluster.CoordinatorPort);
            var bytes = new byte[4096];
            new Random(i).NextBytes(bytes);
            await garbage.GetStream().WriteAsync(bytes);
        }
        cluster.StartWorker();
        Assert.Equal(0, await coordinator.WaitForExitAsync(Patience));
        Assert.Equal(ReferenceHash(SpiralsJob), coordinator.SummaryHash());
    }
}

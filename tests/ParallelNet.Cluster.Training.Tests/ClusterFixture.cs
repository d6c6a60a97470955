using ParallelNet.Actors;
using ParallelNet.Data;
using ParallelNet.NN;
using ParallelNet.NN.Losses;
using ParallelNet.NN.Optimizers;
using ParallelNet.Training;

namespace ParallelNet.Cluster.Training.Tests;

/// <summary>In-process cluster nodes on loopback with the training messages, and a small job on the spirals.</summary>
internal static class ClusterFixture
{
    public const string Token = "training-test";

    public static DataSplit Spirals() => DatasetCatalog.Load("spirals", null);

    public static TrainingOptions Options(DataSplit data, int epochs = 2) => new()
    {
        Model = new ModelSpec(data.Train.SampleShape,
        [
            new LayerSpec("linear", ("out", 32)),
            new LayerSpec("batchnorm1d"),
            new LayerSpec("relu"),
            new LayerSpec("dropout", ("p", 0.1)),
            new LayerSpec("linear", ("out", data.Train.Classes)),
        ], LossKind.CrossEntropy),
        Optimizer = new OptimizerOptions(OptimizerKind.Sgd, 0.1f, 0.9f),
        Epochs = epochs,
        BatchSize = 32,
        VirtualShards = 4,
        Seed = 7,
    };

    public static string Reference(TrainingOptions options, DataSplit data) => new LocalTrainer(options, data, new Tensors.Cpu.CpuCompute(1)).Run().WeightsSha256;

    public static ClusterNodeOptions NodeOptions(string system, string role, params string[] seeds)
    {
        var options = new ClusterNodeOptions
        {
            SystemName = system,
            ClusterToken = Token,
            HeartbeatInterval = TimeSpan.FromMilliseconds(200),
            UnreachableAfter = TimeSpan.FromSeconds(1),
            RemovedAfter = TimeSpan.FromSeconds(2),
        };
        options.Roles.Add(role);
        foreach (var seed in seeds) options.Seeds.Add(seed);
        options.Serializers.AddTrainingMessages();
        return options;
    }

    public static async Task<ClusterNode> StartWorkerAsync(ClusterNode coordinator, string name)
    {
        var node = await ClusterNode.StartAsync(NodeOptions(name, "worker", $"127.0.0.1:{coordinator.Port}"));
        node.System.ActorOf(WorkerHost.Props(node, new WorkerHostSettings { ComputeFactory = () => new Tensors.Cpu.CpuCompute(1), RetryInterval = TimeSpan.FromMilliseconds(200) }), "worker-host");
        return node;
    }

    public static async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? wait = null)
    {
        var deadline = DateTime.UtcNow + (wait ?? TimeSpan.FromSeconds(30));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out waiting until {what}.");
            await Task.Delay(20);
        }
    }
}

/// <summary>Records the coordinator's events for a test thread.</summary>
internal sealed class RecordingObserver : ITrainingObserver
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<WorkerActivity> _workers = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<StepCompleted> _steps = new();
    public IReadOnlyList<WorkerActivity> Workers => _workers.ToArray();
    public IReadOnlyList<StepCompleted> Steps => _steps.ToArray();
    public void OnWorker(WorkerActivity activity) => _workers.Enqueue(activity);
    public void OnStep(StepCompleted step) => _steps.Enqueue(step);
}

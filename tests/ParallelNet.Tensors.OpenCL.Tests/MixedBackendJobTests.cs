using Xunit.Abstractions;
using ParallelNet.Data;
using ParallelNet.NN;
using ParallelNet.NN.Losses;
using ParallelNet.NN.Optimizers;
using ParallelNet.Tensors.Cpu;
using ParallelNet.Training;
using ParallelNet.Training.Actors;
using ParallelNet.Training.Checkpoints;

namespace ParallelNet.Tensors.OpenCL.Tests;

/// <summary>
/// A job whose workers sit on different backends: one CPU worker and one OpenCL worker. Its weights match
/// the CPU-only job within <see cref="MixedJobTolerance"/> (per weight, |mixed - cpu| &lt;= tol * (1 + |cpu|)).
/// </summary>
[Collection(OpenClCollection.Name)]
public sealed class MixedBackendJobTests(OpenClFixture fixture, ITestOutputHelper output) : IDisposable
{
    /// <summary>
    /// The stated tolerance between a mixed-backend job and the CPU-only one after a short job (this one: 10 epochs
    /// of spirals, 100 steps with batch norm, dropout and SGD momentum). Measured on POCL: 4.8e-7; the gap grows
    /// slowly with the number of steps, as between any two BLAS libraries.
    /// </summary>
    public const double MixedJobTolerance = 1e-4;

    private readonly string _directory = Directory.CreateTempSubdirectory("pn-mixed-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [OpenClFact]
    public void CpuPlusOpenClWorkers_MatchTheCpuOnlyJobWithinTheStatedTolerance()
    {
        var data = DatasetCatalog.Load("spirals", null);
        var options = SpiralsJob(data);
        var (cpuSummary, cpuWeights) = Run(options, data, "cpu-only", _ => new CpuCompute(1));
        var (mixedSummary, mixedWeights) = Run(options, data, "mixed", worker => worker == 0 ? new CpuCompute(1) : fixture.Device);

        Assert.Equal(cpuSummary.Steps, mixedSummary.Steps);
        double largest = cpuWeights.Zip(mixedWeights, (c, m) => Math.Abs(c - m) / (1 + Math.Abs(c))).Max();
        output.WriteLine($"{cpuSummary.Steps} steps: largest per-weight gap {largest:E2}; test accuracy {mixedSummary.TestAccuracy:P2} mixed, {cpuSummary.TestAccuracy:P2} CPU only");
        BackendComparison.AssertClose(cpuWeights, mixedWeights, MixedJobTolerance, "mixed-backend job against the CPU-only job");
        Assert.True(Math.Abs(cpuSummary.TestAccuracy - mixedSummary.TestAccuracy) <= 0.01,
            $"test accuracy {mixedSummary.TestAccuracy:P2} (mixed) against {cpuSummary.TestAccuracy:P2} (CPU only)");
        Assert.True(mixedSummary.TestAccuracy >= 0.7, $"the mixed job did not learn (chance: {1.0 / data.Train.Classes:P0}): test accuracy {mixedSummary.TestAccuracy:P2}");
    }

    [OpenClFact]
    public void OpenClWorkers_SharingOneDevice_GiveTheSameBitsWhateverTheirNumber()
    {
        var data = DatasetCatalog.Load("spirals", null);
        var options = SpiralsJob(data) with { MaxSteps = 30 };
        string Sha(int workers) => new ActorTrainer(options, data, new ActorTrainerSettings { Workers = workers, WorkerCompute = _ => fixture.Device }).Run().WeightsSha256;
        Assert.Equal(Sha(1), Sha(3));
    }

    internal static TrainingOptions SpiralsJob(DataSplit data) => new()
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
        Epochs = 10,
        BatchSize = 32,
        VirtualShards = 4,
        Seed = 7,
    };

    private (TrainingSummary Summary, float[] Weights) Run(TrainingOptions options, DataSplit data, string name, Func<int, ICompute> backends)
    {
        string path = Path.Combine(_directory, name + ".safetensors");
        var settings = new ActorTrainerSettings { Workers = 2, WorkerCompute = backends };
        var summary = new ActorTrainer(options, data, settings).Run(checkpoints: new CheckpointPolicy(path));
        var weights = TrainingCheckpoint.Load(path).Parameters.SelectMany(p => p.Data).ToArray();
        return (summary, weights);
    }
}

using ParallelNet.Data;
using ParallelNet.NN;
using ParallelNet.NN.Losses;
using ParallelNet.NN.Optimizers;
using ParallelNet.Tensors;

namespace ParallelNet.Training.Tests;

/// <summary>Small, fast jobs on the synthetic spirals: several epochs in well under a second.</summary>
internal static class TrainingFixtures
{
    public static DataSplit Spirals() => DatasetCatalog.Load("spirals", null);

    /// <summary>A net with dropout and batch norm, so masks and running statistics are part of what must match.</summary>
    public static ModelSpec SmallNet(DataSplit data, bool batchNorm = true) => new(
        data.Train.SampleShape,
        [
            new LayerSpec("linear", ("out", 32)),
            .. batchNorm ? new[] { new LayerSpec("batchnorm1d") } : [],
            new LayerSpec("relu"),
            new LayerSpec("dropout", ("p", 0.1)),
            new LayerSpec("linear", ("out", data.Train.Classes)),
        ],
        LossKind.CrossEntropy);

    public static TrainingOptions Options(DataSplit data, int epochs = 3, int batchSize = 32, int shards = 4, bool batchNorm = true, OptimizerKind kind = OptimizerKind.Sgd) => new()
    {
        Model = SmallNet(data, batchNorm),
        Optimizer = kind == OptimizerKind.Sgd ? new OptimizerOptions(kind, 0.1f, 0.9f) : new OptimizerOptions(kind, 0.01f),
        Epochs = epochs,
        BatchSize = batchSize,
        VirtualShards = shards,
        Seed = 7,
    };

    public static LocalTrainer Trainer(TrainingOptions options, DataSplit data, ITrainingObserver? observer = null)
        => new(options, data, new Tensors.Cpu.CpuCompute(1), observer);
}

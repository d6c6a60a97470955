using ParallelNet.Data;
using ParallelNet.NN;
using ParallelNet.NN.Optimizers;
using ParallelNet.Testing;
using ParallelNet.Training.Actors;
using static ParallelNet.Training.Tests.TrainingFixtures;

namespace ParallelNet.Training.Tests.Actors;

/// <summary>The invariant of the design: the weights after a fixed number of steps do not depend on the number of workers.</summary>
public sealed class DeterminismTests
{
    [Fact]
    public void BatchNormNetGivesTheLocalTrainersWeightsWithOneToFourWorkers()
    {
        var data = Spirals();
        var options = Options(data, epochs: 2, batchSize: 30, shards: 4);
        var reference = Trainer(options, data).Run();
        foreach (int workers in new[] { 1, 2, 3, 4 })
        {
            var summary = new ActorTrainer(options, data, Settings(workers)).Run();
            Assert.True(reference.WeightsSha256 == summary.WeightsSha256, $"{workers} worker(s): weights_sha256 {summary.WeightsSha256} differs from the plain loop's {reference.WeightsSha256}");
            Assert.Equal(reference.Steps, summary.Steps);
            Assert.Equal(reference.TrainLoss, summary.TrainLoss);
            Assert.Equal(reference.TestAccuracy, summary.TestAccuracy);
        }
    }

    [Fact]
    public void MnistMlpWithDropoutGivesTheLocalTrainersWeightsWithOneToFourWorkers()
    {
        var full = DatasetCatalog.Load("mnist", TestData.RequireMnistDirectory());
        // A few steps suffice; a small test split keeps the final evaluation cheap.
        var data = full with { Test = full.Test.Subset(Enumerable.Range(0, 200).ToArray(), "mnist-test-200") };
        var options = new TrainingOptions
        {
            Model = ModelSpec.Preset("mlp", data.Train.SampleShape, data.Train.Classes),
            Optimizer = new OptimizerOptions(OptimizerKind.Sgd, 0.05f, 0.9f),
            BatchSize = 64,
            VirtualShards = 4,
            MaxSteps = 3,
            Seed = 11,
        };
        Assert.Contains(options.Model.Layers, l => l.Type == "dropout");
        var reference = Trainer(options, data).Run();
        foreach (int workers in new[] { 1, 2, 3, 4 })
        {
            var summary = new ActorTrainer(options, data, Settings(workers)).Run();
            Assert.True(reference.WeightsSha256 == summary.WeightsSha256, $"{workers} worker(s): weights_sha256 {summary.WeightsSha256} differs from the plain loop's {reference.WeightsSha256}");
        }
    }

    [Fact]
    public void UnevenShardsAndAShortLastBatchStillMatch()
    {
        var data = Spirals();
        // 8 shards over a batch of 29 (sizes 4 and 3) and a short last batch; no batch norm, whose one-sample shards PyTorch refuses too.
        var options = Options(data, epochs: 1, batchSize: 29, shards: 8, batchNorm: false, kind: OptimizerKind.Adam);
        var reference = Trainer(options, data).Run();
        foreach (int workers in new[] { 3, 5, 8 })
            Assert.Equal(reference.WeightsSha256, new ActorTrainer(options, data, Settings(workers)).Run().WeightsSha256);
    }

    [Fact]
    public void WorkerThreadCountDoesNotChangeTheWeights()
    {
        var data = Spirals();
        var options = Options(data, epochs: 1);
        var one = new ActorTrainer(options, data, Settings(2, threads: 1)).Run();
        var two = new ActorTrainer(options, data, Settings(2, threads: 2)).Run();
        Assert.Equal(one.WeightsSha256, two.WeightsSha256);
    }

    internal static ActorTrainerSettings Settings(int workers, int threads = 1) => new() { Workers = workers, ThreadsPerWorker = threads };
}

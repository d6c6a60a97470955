using ParallelNet.Data;
using ParallelNet.Tensors;
using static ParallelNet.Training.Tests.TrainingFixtures;

namespace ParallelNet.Training.Tests;

public sealed class LocalTrainerTests
{
    [Fact]
    public void SameSeedGivesBitwiseSameWeightsAndDifferentSeedDoesNot()
    {
        var data = Spirals();
        var options = Options(data);
        var first = Trainer(options, data).Run();
        var second = Trainer(options, data).Run();
        var other = Trainer(options with { Seed = 8 }, data).Run();
        Assert.Equal(first.WeightsSha256, second.WeightsSha256);
        Assert.NotEqual(first.WeightsSha256, other.WeightsSha256);
    }

    [Fact]
    public void LearnsTheSpirals()
    {
        var data = Spirals();
        var summary = Trainer(Options(data, epochs: 60, kind: NN.Optimizers.OptimizerKind.Adam), data).Run();
        Assert.True(summary.TestAccuracy > 0.85, $"test accuracy {summary.TestAccuracy:P1} on spirals after 60 epochs; a 32-unit net should exceed 85 %");
        Assert.True(summary.TrainLoss < 0.8, $"train loss {summary.TrainLoss} (dropout on)");
    }

    [Fact]
    public void ReportsEveryStepAndEveryEpochAndStopsAtMaxSteps()
    {
        var data = Spirals();
        var observer = new RecordingObserver();
        var trainer = Trainer(Options(data, epochs: 5) with { MaxSteps = 1 + (data.Train.Count + 31) / 32 }, data, observer);
        var summary = trainer.Run();
        Assert.Equal(trainer.TotalSteps, summary.Steps);
        Assert.Equal(Enumerable.Range(1, (int)summary.Steps).Select(i => (long)i), observer.Steps.Select(s => s.Step));
        // one full epoch, then the max-steps stop mid-epoch 2: both evaluated
        Assert.Equal(2, observer.Epochs.Count);
        Assert.All(observer.Epochs, e => Assert.InRange(e.TestAccuracy, 0, 1));
    }

    [Fact]
    public void NonFiniteGradientIsSkippedWithoutTouchingTheWeights()
    {
        var clean = Spirals();
        var poisoned = Poison(clean, sample: 0);
        // Step 1's batch holds sample 0 only if the permutation puts it there; train until the poisoned step instead.
        var options = Options(poisoned, epochs: 1) with { SkipNonFiniteSteps = true };
        var observer = new RecordingObserver();
        var trainer = Trainer(options, poisoned, observer);
        var summary = trainer.Run();
        Assert.Single(observer.Steps, s => s.Skipped);
        var host = new float[trainer.Model.Layout.TotalSize];
        trainer.Model.Compute.Download(trainer.Model.Parameters, host);
        Assert.All(host, v => Assert.True(float.IsFinite(v)));
        Assert.Equal(observer.Steps.Count, summary.Steps);
    }

    [Fact]
    public void NonFiniteGradientFailsTheJobLoudlyByDefault()
    {
        var poisoned = Poison(Spirals(), sample: 0);
        var observer = new RecordingObserver();
        var trainer = Trainer(Options(poisoned, epochs: 1), poisoned, observer);
        var error = Assert.Throws<TrainingException>(() => trainer.Run());
        Assert.Contains("non-finite", error.Message);
        var host = new float[trainer.Model.Layout.TotalSize];
        trainer.Model.Compute.Download(trainer.Model.Parameters, host);
        Assert.All(host, v => Assert.True(float.IsFinite(v)));
    }

    private static DataSplit Poison(DataSplit data, int sample)
    {
        var features = (float[])data.Train.Features.Clone();
        features[sample * data.Train.SampleSize] = float.NaN;
        var train = new Dataset(data.Train.Name + "-poisoned", data.Train.SampleShape, features, data.Train.Targets, data.Train.TargetSize, data.Train.Classes);
        return data with { Train = train };
    }
}

internal sealed class RecordingObserver : ITrainingObserver
{
    public List<StepCompleted> Steps { get; } = [];
    public List<EpochCompleted> Epochs { get; } = [];
    public List<CheckpointWritten> Checkpoints { get; } = [];
    public void OnStep(StepCompleted step) => Steps.Add(step);
    public void OnEpoch(EpochCompleted epoch) => Epochs.Add(epoch);
    public void OnCheckpoint(CheckpointWritten checkpoint) => Checkpoints.Add(checkpoint);
}

using static ParallelNet.Training.Tests.TrainingFixtures;

namespace ParallelNet.Training.Tests.Checkpoints;

public sealed class ResumeTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("pn-resume-").FullName;
    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData(7, 4)]   // mid-epoch checkpoint
    [InlineData(5, 1)]
    public void ResumingFromAMidEpochCheckpointEqualsTheUninterruptedRun(long stopAt, int shards)
    {
        var data = Spirals();
        var options = Options(data, epochs: 3, shards: shards);
        var uninterrupted = Trainer(options, data).Run();

        string path = Path.Combine(_directory, "job.safetensors");
        var firstHalf = Trainer(options with { MaxSteps = stopAt }, data);
        firstHalf.Run(checkpoints: new CheckpointPolicy(path));
        var saved = TrainingCheckpoint.Load(path);
        Assert.Equal(stopAt, saved.Progress.Step);
        Assert.NotEqual(0, saved.Progress.StepInEpoch);

        var resumed = Trainer(saved.Options with { MaxSteps = 0 }, data);
        resumed.Restore(saved);
        var summary = resumed.Run();
        Assert.Equal(uninterrupted.Steps, summary.Steps);
        Assert.Equal(uninterrupted.WeightsSha256, summary.WeightsSha256);
        Assert.Equal(uninterrupted.TrainLoss, summary.TrainLoss);
    }

    [Fact]
    public void PeriodicCheckpointsAreWrittenEveryKStepsAndAtEpochEnds()
    {
        var data = Spirals();
        string path = Path.Combine(_directory, "periodic.safetensors");
        var observer = new RecordingObserver();
        var trainer = Trainer(Options(data, epochs: 2), data, observer);
        trainer.Run(checkpoints: new CheckpointPolicy(path, Every: 4));
        var steps = observer.Checkpoints.Select(c => c.Step).ToList();
        Assert.Contains(4L, steps);
        Assert.Contains((long)trainer.StepsPerEpoch, steps);
        Assert.Equal(trainer.TotalSteps, steps[^1]);
        Assert.Equal(trainer.TotalSteps, TrainingCheckpoint.Load(path).Progress.Step);
    }
}

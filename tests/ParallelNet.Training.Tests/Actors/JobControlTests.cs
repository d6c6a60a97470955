using ParallelNet.Actors;
using ParallelNet.Data;
using ParallelNet.Training.Actors;
using static ParallelNet.Training.Tests.TrainingFixtures;

namespace ParallelNet.Training.Tests.Actors;

/// <summary>Resume, pause, cancel and non-finite gradients through the actors.</summary>
public sealed class JobControlTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("pn-actors-").FullName;
    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData(7, 3, 2)]
    [InlineData(5, 1, 4)]
    public void ResumingWithAnotherWorkerCountEqualsTheUninterruptedRun(long stopAt, int firstWorkers, int secondWorkers)
    {
        var data = Spirals();
        var options = Options(data, epochs: 2, shards: 4);
        var uninterrupted = Trainer(options, data).Run();

        string path = Path.Combine(_directory, "job.safetensors");
        new ActorTrainer(options with { MaxSteps = stopAt }, data, DeterminismTests.Settings(firstWorkers)).Run(checkpoints: new CheckpointPolicy(path));
        var saved = TrainingCheckpoint.Load(path);
        Assert.Equal(stopAt, saved.Progress.Step);
        Assert.NotEqual(0, saved.Progress.StepInEpoch);

        var resumed = new ActorTrainer(saved.Options with { MaxSteps = 0 }, data, DeterminismTests.Settings(secondWorkers));
        resumed.Restore(saved);
        var summary = resumed.Run();
        Assert.Equal(uninterrupted.Steps, summary.Steps);
        Assert.Equal(uninterrupted.WeightsSha256, summary.WeightsSha256);
        Assert.Equal(uninterrupted.TrainLoss, summary.TrainLoss);
    }

    [Fact]
    public void CheckpointsComeEveryKStepsAndAtEpochEndsLikeThePlainLoop()
    {
        var data = Spirals();
        var options = Options(data, epochs: 2);
        var local = new RecordingObserver();
        Trainer(options, data, local).Run(checkpoints: new CheckpointPolicy(Path.Combine(_directory, "local.safetensors"), Every: 4));
        var actors = new RecordingObserver();
        string path = Path.Combine(_directory, "actors.safetensors");
        new ActorTrainer(options, data, DeterminismTests.Settings(3), actors).Run(checkpoints: new CheckpointPolicy(path, Every: 4));
        Assert.Equal(local.Checkpoints.Select(c => c.Step), actors.Checkpoints.Select(c => c.Step));
        Assert.Equal(local.Epochs.Select(e => (e.Epoch, e.Step, e.TrainLoss, e.TestAccuracy)), actors.Epochs.Select(e => (e.Epoch, e.Step, e.TrainLoss, e.TestAccuracy)));
        Assert.Equal(local.Steps.Select(s => (s.Step, s.Loss)), actors.Steps.Select(s => (s.Step, s.Loss)));
    }

    [Fact]
    public void ACheckpointOfAnotherModelIsRefusedBeforeTheJobStarts()
    {
        var data = Spirals();
        string path = Path.Combine(_directory, "other.safetensors");
        Trainer(Options(data, epochs: 1) with { MaxSteps = 2 }, data).Run(checkpoints: new CheckpointPolicy(path));
        var trainer = new ActorTrainer(Options(data, batchNorm: false), data);
        var error = Assert.Throws<ParallelNet.Training.Checkpoints.CheckpointException>(() => trainer.Restore(TrainingCheckpoint.Load(path)));
        Assert.Contains("wrong model", error.Message);
    }

    [Fact]
    public void ANonFiniteGradientIsSkippedExactlyAsThePlainLoopSkipsIt()
    {
        var poisoned = Poison(Spirals());
        var options = Options(poisoned, epochs: 1) with { SkipNonFiniteSteps = true };
        var reference = Trainer(options, poisoned).Run();
        var observer = new RecordingObserver();
        var summary = new ActorTrainer(options, poisoned, DeterminismTests.Settings(3), observer).Run();
        Assert.Single(observer.Steps, s => s.Skipped);
        Assert.Equal(reference.WeightsSha256, summary.WeightsSha256);
    }

    [Fact]
    public void ANonFiniteGradientFailsTheJobAndNeverReachesTheWeights()
    {
        var poisoned = Poison(Spirals());
        var options = Options(poisoned, epochs: 1);
        var observer = new RecordingObserver();
        string path = Path.Combine(_directory, "nan.safetensors");
        var error = Assert.Throws<TrainingException>(() => new ActorTrainer(options, poisoned, DeterminismTests.Settings(2), observer).Run(checkpoints: new CheckpointPolicy(path, Every: 1)));
        Assert.Contains("non-finite", error.Message);
        // The last checkpoint holds the weights just before the poisoned step: finite, and those of the plain loop at that step.
        var last = TrainingCheckpoint.Load(path);
        Assert.Equal(observer.Steps.Count, last.Progress.Step);
        Assert.All(last.Parameters, p => Assert.All(p.Data, v => Assert.True(float.IsFinite(v))));
        var before = Trainer(options with { MaxSteps = last.Progress.Step }, poisoned).Run();
        Assert.Equal(before.WeightsSha256, last.WeightsSha256);
    }

    [Fact]
    public async Task PausingAFinishedJobAnswersAtOnceWithTheLastStep()
    {
        var data = Spirals();
        await using var system = ActorSystem.Create("pause-finished");
        var coordinator = system.ActorOf(Coordinator.Props(Options(data, epochs: 1), data, DeterminismTests.Settings(1)), "coordinator");
        var finished = await coordinator.Ask<JobFinished>(new StartJob(), TimeSpan.FromSeconds(60));
        var paused = await coordinator.Ask<JobPaused>(new PauseJob(), TimeSpan.FromSeconds(10));
        Assert.Equal(finished.Summary.Steps, paused.Step);
    }

    [Fact]
    public async Task PauseHoldsTheJobAndResumeFinishesItWithTheSameWeights()
    {
        var data = Spirals();
        var options = Options(data, epochs: 2);
        var reference = Trainer(options, data).Run();
        // Asked from the observer, on the coordinator's thread, so the job cannot outrun the request.
        ActorTrainer? trainer = null;
        var pauseRequested = new TaskCompletionSource<Task<JobPaused>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var observer = new ConcurrentObserver { AfterStep = s => { if (s.Step == 3) pauseRequested.TrySetResult(trainer!.PauseAsync(TimeSpan.FromSeconds(30))); } };
        trainer = new ActorTrainer(options, data, DeterminismTests.Settings(2), observer);
        var run = trainer.RunAsync();
        var paused = await (await pauseRequested.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        int stepsWhenPaused = observer.Steps.Count;
        Assert.Equal(paused.Step, stepsWhenPaused);
        await Task.Delay(200);
        Assert.Equal(stepsWhenPaused, observer.Steps.Count);
        Assert.False(run.IsCompleted);
        await trainer.ResumeAsync(TimeSpan.FromSeconds(30));
        var summary = await run.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(reference.WeightsSha256, summary.WeightsSha256);
        Assert.False(summary.Cancelled);
    }

    [Fact]
    public void CancelEndsAfterTheStepInFlightAndTheCheckpointResumesToTheSameWeights()
    {
        var data = Spirals();
        var options = Options(data, epochs: 2);
        var reference = Trainer(options, data).Run();
        using var cancellation = new CancellationTokenSource();
        var observer = new ConcurrentObserver { AfterStep = s => { if (s.Step == 4) cancellation.Cancel(); } };
        string path = Path.Combine(_directory, "cancelled.safetensors");
        var summary = new ActorTrainer(options, data, DeterminismTests.Settings(2), observer).Run(cancellation.Token, new CheckpointPolicy(path));
        Assert.True(summary.Cancelled);
        // The step in flight and the one issued ahead still finish; a step-5 report already queued before the
        // cancel (seen under load) issues one more ahead, so at most three steps follow step 4.
        Assert.InRange(summary.Steps, 4, 7);
        var saved = TrainingCheckpoint.Load(path);
        Assert.Equal(summary.Steps, saved.Progress.Step);
        var resumed = new ActorTrainer(options, data, DeterminismTests.Settings(3));
        resumed.Restore(saved);
        Assert.Equal(reference.WeightsSha256, resumed.Run().WeightsSha256);
    }

    private static DataSplit Poison(DataSplit data)
    {
        var features = (float[])data.Train.Features.Clone();
        features[0] = float.NaN;
        var train = new Dataset(data.Train.Name + "-poisoned", data.Train.SampleShape, features, data.Train.Targets, data.Train.TargetSize, data.Train.Classes);
        return data with { Train = train };
    }
}

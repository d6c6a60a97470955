using ParallelNet.Training.Jobs;

namespace ParallelNet.Training.Tests.Jobs;

public sealed class InProcessJobRunnerTests
{
    [Fact]
    public async Task Runs_the_job_to_the_plain_loops_weights_with_the_requested_workers()
    {
        var data = TrainingFixtures.Spirals();
        var options = TrainingFixtures.Options(data, epochs: 1);
        var expected = TrainingFixtures.Trainer(options, data).Run();
        var workers = new List<int>();

        var summary = await new InProcessJobRunner(threadsPerWorker: 1).RunAsync(
            new JobRun("job-1", options, "spirals", data, Workers: 3, Observer: new WorkerRecorder(workers)), CancellationToken.None);

        Assert.Equal(expected.WeightsSha256, summary.WeightsSha256);
        Assert.Equal(3, workers.Distinct().Count());
    }

    [Fact]
    public async Task Resumes_from_a_checkpoint_to_the_uninterrupted_weights()
    {
        var data = TrainingFixtures.Spirals();
        var options = TrainingFixtures.Options(data, epochs: 2);
        var path = Path.Combine(Path.GetTempPath(), $"pn-runner-{Guid.NewGuid():N}.safetensors");
        try
        {
            var uninterrupted = TrainingFixtures.Trainer(options, data).Run();
            var runner = new InProcessJobRunner(threadsPerWorker: 1);
            await runner.RunAsync(new JobRun("job-2", options with { MaxSteps = 5 }, "spirals", data, 2, Checkpoints: new CheckpointPolicy(path)), CancellationToken.None);

            var resumed = await runner.RunAsync(new JobRun("job-2", options, "spirals", data, 1, ResumeFrom: TrainingCheckpoint.Load(path)), CancellationToken.None);

            Assert.Equal(uninterrupted.WeightsSha256, resumed.WeightsSha256);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private sealed class WorkerRecorder(List<int> workers) : ITrainingObserver
    {
        public void OnWorker(WorkerActivity activity)
        {
            lock (workers) workers.Add(activity.Worker);
        }
    }
}

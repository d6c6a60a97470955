using ParallelNet.Jobs.V1;
using ParallelNet.Training;
using ParallelNet.Training.Jobs;

namespace ParallelNet.Jobs.Tests;

/// <summary>Jobs survive a server restart: queued ones stay queued, a running one resumes from its checkpoint.</summary>
public sealed class RestartTests
{
    /// <summary>Records where each run started, then trains in-process.</summary>
    private sealed class RecordingRunner : IJobRunner
    {
        private readonly InProcessJobRunner _inner = new(1);
        public System.Collections.Concurrent.ConcurrentQueue<(string Id, long FromStep)> Runs { get; } = new();

        public Task<TrainingSummary> RunAsync(JobRun run, CancellationToken cancellation)
        {
            Runs.Enqueue((run.JobId, run.ResumeFrom?.Progress.Step ?? 0));
            return _inner.RunAsync(run, cancellation);
        }
    }

    [Fact]
    public async Task After_a_graceful_stop_the_running_job_resumes_from_its_checkpoint_and_queued_jobs_remain()
    {
        var state = Directory.CreateTempSubdirectory("pn-jobs-restart-").FullName;
        try
        {
            var long_ = JobTestExtensions.TinySpirals(seed: 5) with { Epochs = 8, CheckpointEvery = 5 };
            var queued = JobTestExtensions.TinySpirals(seed: 6);
            string longId, queuedId;
            var first = new RecordingRunner();
            await using (var server = await TestJobServer.StartAsync(first, stateDirectory: state))
            {
                using var client = server.Client();
                longId = (await client.SubmitAsync(long_)).Id;
                queuedId = (await client.SubmitAsync(queued)).Id;
                using var watching = new CancellationTokenSource(Waits.Long);
                await foreach (var e in client.WatchAsync(longId, watching.Token))
                    if (e.EventCase == JobEvent.EventOneofCase.Checkpoint && e.Checkpoint.Step >= 10) break;
                await server.Server.StopAsync();
                Assert.Equal(JobState.Running, server.Jobs.Get(longId).State);
                Assert.Equal(JobState.Queued, server.Jobs.Get(queuedId).State);
            }

            var second = new RecordingRunner();
            var settings = new JobServerSettings { Port = 0, StateDirectory = state };
            await using var restarted = await JobServer.StartAsync(settings, second);
            using var again = new JobServiceClient($"127.0.0.1:{restarted.Server.Port}");
            var longEvents = await again.WatchToEndAsync(longId);
            var queuedEvents = await again.WatchToEndAsync(queuedId);

            Assert.Equal(JobTestExtensions.ExpectedWeights(long_), longEvents[^1].Result.WeightsSha256);
            Assert.Equal(JobTestExtensions.ExpectedWeights(queued), queuedEvents[^1].Result.WeightsSha256);
            var runs = second.Runs.ToList();
            Assert.Equal([longId, queuedId], runs.Select(r => r.Id));
            Assert.True(runs[0].FromStep >= 10, $"resumed from step {runs[0].FromStep}");
            Assert.Equal(0, runs[1].FromStep);
            Assert.Equal(1, (await again.GetAsync(longId)).Resumes);
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }
}

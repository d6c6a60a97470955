using ParallelNet.Jobs.V1;
using ParallelNet.Rpc;

namespace ParallelNet.Jobs.Tests;

/// <summary>The job service over real gRPC on loopback: training, watching, listing, cancelling, downloading.</summary>
public sealed class JobServiceTests
{
    [Fact]
    public async Task A_submitted_job_trains_reports_through_watch_and_matches_the_plain_trainer()
    {
        await using var server = await TestJobServer.StartAsync();
        using var client = server.Client();
        var spec = JobTestExtensions.TinySpirals();

        var job = await client.SubmitAsync(spec);
        var events = await client.WatchToEndAsync(job.Id);

        Assert.Equal(JobEvent.EventOneofCase.State, events[0].EventCase);
        Assert.Contains(events, e => e.EventCase == JobEvent.EventOneofCase.Step && e.Step.Step == 20 && e.Step.TotalSteps == 20);
        Assert.Equal(2, events.Count(e => e.EventCase == JobEvent.EventOneofCase.Epoch));
        Assert.Equal(JobState.Succeeded, events.Last(e => e.EventCase == JobEvent.EventOneofCase.State).State.State);
        var result = events[^1].Result;
        Assert.Equal(20, result.Steps);
        Assert.Equal(JobTestExtensions.ExpectedWeights(spec), result.WeightsSha256);

        var stored = await client.GetAsync(job.Id);
        Assert.Equal(JobState.Succeeded, stored.State);
        Assert.Equal(result, stored.Result);

        // Watching a finished job replays its state and result, then ends.
        var replay = await client.WatchToEndAsync(job.Id);
        Assert.Equal(result, replay[^1].Result);

        using var checkpoint = new MemoryStream();
        Assert.Equal(20, await client.DownloadCheckpointAsync(job.Id, checkpoint));
        var path = Path.Combine(server.Settings.StateDirectory, "downloaded.safetensors");
        await File.WriteAllBytesAsync(path, checkpoint.ToArray());
        Assert.Equal(20, Training.TrainingCheckpoint.Load(path).Progress.Step);
    }

    [Fact]
    public async Task Queued_jobs_run_in_submission_order_one_at_a_time()
    {
        var runner = new GatedJobRunner();
        await using var server = await TestJobServer.StartAsync(runner);
        using var client = server.Client();
        var ids = new List<string>();
        for (int i = 0; i < 3; i++) ids.Add((await client.SubmitAsync(JobTestExtensions.TinySpirals() with { Name = $"job {i}" })).Id);

        Assert.Equal(ids[0], await runner.NextStartedAsync(1));
        var second = await client.GetAsync(ids[2]);
        Assert.Equal(JobState.Queued, second.State);
        Assert.Equal(2, second.QueuePosition);
        Assert.Single(runner.Started);

        runner.Release(ids[0]);
        Assert.Equal(ids[1], await runner.NextStartedAsync(2));
        runner.Release(ids[1]);
        Assert.Equal(ids[2], await runner.NextStartedAsync(3));
        runner.Release(ids[2]);
        var last = await client.WatchToEndAsync(ids[2]);
        Assert.Equal("gated-" + ids[2], last[^1].Result.WeightsSha256);
    }

    [Fact]
    public async Task A_full_queue_answers_resource_exhausted()
    {
        var runner = new GatedJobRunner();
        await using var server = await TestJobServer.StartAsync(runner, s => s.MaxQueuedJobs = 1);
        using var client = server.Client();
        var running = await client.SubmitAsync(JobTestExtensions.TinySpirals());
        await runner.NextStartedAsync(1);
        await client.SubmitAsync(JobTestExtensions.TinySpirals());

        Assert.Equal(StatusCode.ResourceExhausted, await JobTestExtensions.StatusOf(() => client.SubmitAsync(JobTestExtensions.TinySpirals())));
        runner.Release(running.Id);
    }

    [Fact]
    public async Task Cancel_ends_a_queued_job_at_once_and_a_running_one_after_its_step()
    {
        var runner = new GatedJobRunner();
        await using var server = await TestJobServer.StartAsync(runner);
        using var client = server.Client();
        var running = await client.SubmitAsync(JobTestExtensions.TinySpirals());
        var queued = await client.SubmitAsync(JobTestExtensions.TinySpirals());
        await runner.NextStartedAsync(1);

        Assert.Equal(JobState.Cancelled, (await client.CancelAsync(queued.Id)).State);
        await client.CancelAsync(running.Id);
        var events = await client.WatchToEndAsync(running.Id);
        Assert.Equal(JobState.Cancelled, events.Last(e => e.EventCase == JobEvent.EventOneofCase.State).State.State);
        Assert.True(events[^1].Result.Cancelled);

        Assert.Equal(StatusCode.FailedPrecondition, await JobTestExtensions.StatusOf(() => client.CancelAsync(running.Id)));
        Assert.Single(runner.Started);
    }

    [Fact]
    public async Task ListJobs_filters_by_state_and_pages_newest_first()
    {
        var runner = new GatedJobRunner();
        await using var server = await TestJobServer.StartAsync(runner);
        using var client = server.Client();
        var ids = new List<string>();
        for (int i = 0; i < 5; i++) ids.Add((await client.SubmitAsync(JobTestExtensions.TinySpirals())).Id);
        await runner.NextStartedAsync(1);

        var queued = await client.ListAsync([JobState.Queued]);
        Assert.Equal(ids.Skip(1).Reverse(), queued.Jobs.Select(j => j.Id));
        var seen = new List<string>();
        string? token = null;
        do
        {
            var page = await client.ListAsync(pageSize: 2, pageToken: token);
            Assert.True(page.Jobs.Count <= 2);
            seen.AddRange(page.Jobs.Select(j => j.Id));
            token = page.NextPageToken;
        }
        while (token.Length > 0);
        Assert.Equal(Enumerable.Reverse(ids), seen);
        Assert.Equal(StatusCode.InvalidArgument, await JobTestExtensions.StatusOf(() => client.ListAsync(pageToken: "bogus")));
        runner.Release(ids[0]);
    }

    [Fact]
    public async Task A_failing_job_reports_why()
    {
        await using var server = await TestJobServer.StartAsync();
        using var client = server.Client();
        var job = await client.SubmitAsync(JobTestExtensions.TinySpirals() with { Data = "/nonexistent/data.csv" });
        var events = await client.WatchToEndAsync(job.Id);
        var final = events.Last(e => e.EventCase == JobEvent.EventOneofCase.State).State;
        Assert.Equal(JobState.Failed, final.State);
        Assert.Contains("data.csv", final.Error);
    }
}

using System.Globalization;
using ParallelNet.Jobs;
using ParallelNet.Jobs.V1;
using ParallelNet.Training;

namespace ParallelNet.Cli.Output;

/// <summary>
/// Prints a watched job: text lines (state changes, a progress line every few steps, epochs, the result), or with
/// --json the JSON lines of `train --json` (step, epoch, checkpoint events and the same summary), plus state events.
/// </summary>
internal static class JobWatchPrinter
{
    private const int TextStepInterval = 20;

    /// <summary>Follows the job to its end; the exit code says how it ended (0 succeeded, 1 failed, 130 cancelled).</summary>
    public static async Task<int> FollowAsync(JobServiceClient client, string id, TextWriter output, bool json, CancellationToken cancellation)
    {
        var jsonLines = json ? new JsonLinesObserver(output) : null;
        Job? last = null;
        JobResult? result = null;
        await foreach (var e in client.WatchAsync(id, cancellation))
        {
            switch (e.EventCase)
            {
                case JobEvent.EventOneofCase.State:
                    last = e.State;
                    if (json) JsonLinesObserver.Write(output, "state", new { e.State.Id, State = JobManager.StateName(e.State.State), e.State.Step, e.State.TotalSteps, e.State.Error, e.State.Resumes });
                    else output.WriteLine($"{e.State.Id}: {JobManager.StateName(e.State.State)}"
                        + (e.State.State == JobState.Queued && e.State.QueuePosition > 0 ? $" (position {e.State.QueuePosition})" : "")
                        + (e.State.Error.Length > 0 ? $": {e.State.Error}" : ""));
                    break;
                case JobEvent.EventOneofCase.Step:
                    var s = e.Step;
                    if (jsonLines is not null) jsonLines.OnStep(new StepCompleted(s.Epoch - 1, s.Step, s.StepInEpoch, s.StepsInEpoch, s.Loss, s.SamplesPerSecond, s.Skipped));
                    else if (s.Step % TextStepInterval == 0 || s.Step == s.TotalSteps)
                        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"  step {s.Step}/{s.TotalSteps} ({100.0 * s.Step / Math.Max(1, s.TotalSteps):F0} %)  epoch {s.Epoch} {s.StepInEpoch}/{s.StepsInEpoch}  loss {s.Loss:F4}  {s.SamplesPerSecond:F0} samples/s"));
                    break;
                case JobEvent.EventOneofCase.Epoch:
                    var ep = e.Epoch;
                    if (jsonLines is not null) jsonLines.OnEpoch(new EpochCompleted(ep.Epoch - 1, ep.Step, ep.TrainLoss, ep.TestLoss, ep.TestAccuracy, ep.Seconds, ep.SamplesPerSecond));
                    else output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  epoch {ep.Epoch}: train loss {ep.TrainLoss:F4}, test loss {ep.TestLoss:F4}, test accuracy {100 * ep.TestAccuracy:F2} %, {ep.Seconds:F1} s"));
                    break;
                case JobEvent.EventOneofCase.Checkpoint:
                    if (jsonLines is not null) jsonLines.OnCheckpoint(new CheckpointWritten("", e.Checkpoint.Step));
                    break;
                case JobEvent.EventOneofCase.Result:
                    result = e.Result;
                    break;
            }
            output.Flush();
        }
        if (result is not null)
        {
            if (json) JsonLinesObserver.WriteSummary(output, ToSummary(result));
            else output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"result: test accuracy {100 * result.TestAccuracy:F2} %, test loss {result.TestLoss:F4}, {result.Steps} steps, {result.SamplesPerSecond:F0} samples/s, weights_sha256 {result.WeightsSha256}"));
        }
        return last?.State switch
        {
            JobState.Succeeded => ExitCodes.Success,
            JobState.Cancelled => ExitCodes.Interrupted,
            _ => ExitCodes.Failure,
        };
    }

    public static TrainingSummary ToSummary(JobResult r) =>
        new(r.TestAccuracy, r.TestLoss, r.TrainLoss, r.Epochs, r.Steps, r.SamplesPerSecond, r.Parameters, r.WeightsSha256, r.Seconds, r.Cancelled);

    public static void Describe(Job job, TextWriter output)
    {
        var spec = TrainingJobSpec.FromProto(job.Spec);
        static string Time(long ms) => ms == 0 ? "-" : DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
        output.WriteLine($"id:        {job.Id}");
        if (spec.Name is not null) output.WriteLine($"name:      {spec.Name}");
        output.WriteLine($"job:       {spec.Describe()}");
        output.WriteLine($"state:     {JobManager.StateName(job.State)}{(job.QueuePosition > 0 ? $" (position {job.QueuePosition})" : "")}");
        output.WriteLine($"step:      {job.Step}{(job.TotalSteps > 0 ? $"/{job.TotalSteps}" : "")}");
        output.WriteLine($"submitted: {Time(job.SubmittedUnixMs)}");
        output.WriteLine($"started:   {Time(job.StartedUnixMs)}");
        output.WriteLine($"finished:  {Time(job.FinishedUnixMs)}");
        if (job.Resumes > 0) output.WriteLine($"resumed:   {job.Resumes} time(s) from its checkpoint");
        if (job.Error.Length > 0) output.WriteLine($"error:     {job.Error}");
        if (job.Result is { } r)
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"result:    test accuracy {100 * r.TestAccuracy:F2} %, test loss {r.TestLoss:F4}, train loss {r.TrainLoss:F4}, {r.Steps} steps, weights_sha256 {r.WeightsSha256}"));
    }
}

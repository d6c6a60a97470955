using ParallelNet.Data;

namespace ParallelNet.Training.Jobs;

/// <summary>
/// Runs one training job to its end on some set of workers: in-process actors (<see cref="InProcessJobRunner"/>)
/// or the workers of a cluster. The job service and the `node` command depend on this seam, not on where workers live.
/// </summary>
public interface IJobRunner
{
    /// <summary>
    /// Trains <paramref name="run"/> and returns its summary. Cancelling finishes the step in flight, writes the final
    /// checkpoint when <see cref="JobRun.Checkpoints"/> is set, and returns a summary marked Cancelled.
    /// Failures surface as <see cref="TrainingException"/> with a message for the user.
    /// </summary>
    Task<TrainingSummary> RunAsync(JobRun run, CancellationToken cancellation);
}

/// <summary>
/// One job as a runner sees it. <paramref name="DataSource"/> is the data as the job spec names it ("mnist", a CSV path...),
/// so workers on other nodes can load the same split themselves; <paramref name="Data"/> is that split loaded here.
/// <paramref name="Workers"/> is how many workers to use (a cluster uses the live ones, at most this many; 0 = all).
/// </summary>
public sealed record JobRun(
    string JobId,
    TrainingOptions Options,
    string DataSource,
    DataSplit Data,
    int Workers,
    ITrainingObserver? Observer = null,
    CheckpointPolicy? Checkpoints = null,
    TrainingCheckpoint? ResumeFrom = null);

namespace ParallelNet.Training;

/// <summary>Progress after one optimizer step. Step counts from 1 across epochs.</summary>
public sealed record StepCompleted(int Epoch, long Step, int StepInEpoch, int StepsInEpoch, double Loss, double SamplesPerSecond, bool Skipped);

/// <summary>End-of-epoch figures; Test* are NaN when there is no test split.</summary>
public sealed record EpochCompleted(int Epoch, long Step, double TrainLoss, double TestLoss, double TestAccuracy, double Seconds, double SamplesPerSecond);

/// <summary>A checkpoint was written (atomically) to Path.</summary>
public sealed record CheckpointWritten(string Path, long Step);

/// <summary>What a worker is doing: Joined (ready), Working (finished a block), Lost (stopped, failed or timed out; its blocks went to others).</summary>
public enum WorkerStatus { Joined, Working, Lost }

/// <summary>
/// Per-worker activity: totals of shards and samples this worker computed in this run, and its last
/// block's compute rate. Reason says why a worker was lost.
/// </summary>
public sealed record WorkerActivity(int Worker, string Name, WorkerStatus Status, long Step, long ShardsDone, long SamplesDone, double SamplesPerSecond, string? Reason = null);

/// <summary>The outcome of a whole run, the fields of the `--json` summary line.</summary>
public sealed record TrainingSummary(
    double TestAccuracy, double TestLoss, double TrainLoss, int Epochs, long Steps,
    double SamplesPerSecond, long Parameters, string WeightsSha256, double Seconds, bool Cancelled);

/// <summary>Receives progress from a trainer; implementations render it (console, JSON lines, gRPC stream).</summary>
public interface ITrainingObserver
{
    void OnStep(StepCompleted step) { }
    void OnEpoch(EpochCompleted epoch) { }
    void OnCheckpoint(CheckpointWritten checkpoint) { }
    void OnWorker(WorkerActivity activity) { }
    /// <summary>A line for the log: waiting for workers, a wait that ended, why a job stopped.</summary>
    void OnNotice(string message) { }
}

/// <summary>A training failure the user must act on (NaN loss, incompatible checkpoint...); the message says what to do.</summary>
public sealed class TrainingException(string message, Exception? inner = null) : Exception(message, inner);

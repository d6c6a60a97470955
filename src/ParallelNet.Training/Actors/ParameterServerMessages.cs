namespace ParallelNet.Training.Actors;

/// <summary>
/// The parameter server combined all blocks of <paramref name="Step"/> and tried the update. When
/// <paramref name="Applied"/> is false the weights did not change (<paramref name="Rejection"/> says
/// why); when the job skips such steps the version still advances to <paramref name="Version"/>.
/// </summary>
public sealed record StepApplied(string JobId, long Step, long Version, bool Applied, string? Rejection, double LossSum, int Samples);

/// <summary>Command: evaluate the current weights on the test split, each sample counted once.</summary>
public sealed record EvaluateWeights(string JobId);

public sealed record WeightsEvaluated(string JobId, long Version, double TestLoss, double TestAccuracy);

/// <summary>Command: capture weights and optimizer state as a checkpoint at <paramref name="Progress"/>.</summary>
public sealed record CaptureCheckpoint(string JobId, TrainingProgress Progress);

public sealed record CheckpointCaptured(string JobId, TrainingCheckpoint Checkpoint);

/// <summary>Command: report weights_sha256 of the current weights.</summary>
public sealed record ReportWeightsHash(string JobId);

public sealed record WeightsHashReported(string JobId, long Version, string WeightsSha256);

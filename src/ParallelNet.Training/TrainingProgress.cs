namespace ParallelNet.Training;

/// <summary>
/// Where a job stands: Step global steps done, StepInEpoch of them in the current epoch (0-based
/// Epoch), and the running train-loss sums of that epoch, so a resumed job reports what an
/// uninterrupted one would.
/// </summary>
public sealed record TrainingProgress(int Epoch, int StepInEpoch, long Step, double EpochLossSum, long EpochSamples, double PreviousEpochLoss)
{
    public static TrainingProgress Start { get; } = new(0, 0, 0, 0, 0, double.NaN);

    /// <summary>Weights version: bumped by every applied (or skipped) step, so it equals Step.</summary>
    public long Version => Step;

    public TrainingProgress Advance(int stepsPerEpoch, double lossSum, int samples)
    {
        var next = this with { Step = Step + 1, StepInEpoch = StepInEpoch + 1, EpochLossSum = EpochLossSum + lossSum, EpochSamples = EpochSamples + samples };
        return next.StepInEpoch < stepsPerEpoch
            ? next
            : next with { Epoch = Epoch + 1, StepInEpoch = 0, EpochLossSum = 0, EpochSamples = 0, PreviousEpochLoss = next.EpochLossSum / Math.Max(1, next.EpochSamples) };
    }
}

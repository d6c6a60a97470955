using ParallelNet.Jobs.V1;
using ParallelNet.Training;

namespace ParallelNet.Jobs.Internal;

/// <summary>Turns a trainer's progress into JobEvents for watchers and keeps the job's step current.</summary>
internal sealed class JobProgressObserver(string jobId, JobEventHub hub, long totalSteps, Action<long> onStep, Action<long> onCheckpoint) : ITrainingObserver
{
    public void OnStep(StepCompleted step)
    {
        onStep(step.Step);
        hub.Publish(new JobEvent
        {
            JobId = jobId,
            Step = new StepProgress
            {
                Epoch = step.Epoch + 1, Step = step.Step, StepInEpoch = step.StepInEpoch, StepsInEpoch = step.StepsInEpoch,
                TotalSteps = totalSteps, Loss = step.Loss, SamplesPerSecond = step.SamplesPerSecond, Skipped = step.Skipped,
            },
        });
    }

    public void OnEpoch(EpochCompleted epoch) => hub.Publish(new JobEvent
    {
        JobId = jobId,
        Epoch = new EpochResult
        {
            Epoch = epoch.Epoch + 1, Step = epoch.Step, TrainLoss = epoch.TrainLoss, TestLoss = epoch.TestLoss,
            TestAccuracy = epoch.TestAccuracy, Seconds = epoch.Seconds, SamplesPerSecond = epoch.SamplesPerSecond,
        },
    });

    public void OnCheckpoint(CheckpointWritten checkpoint)
    {
        onCheckpoint(checkpoint.Step);
        hub.Publish(new JobEvent { JobId = jobId, Checkpoint = new CheckpointSaved { Step = checkpoint.Step } });
    }

    public static JobResult ToResult(TrainingSummary s) => new()
    {
        TestAccuracy = s.TestAccuracy, TestLoss = s.TestLoss, TrainLoss = s.TrainLoss, Epochs = s.Epochs, Steps = s.Steps,
        SamplesPerSecond = s.SamplesPerSecond, Parameters = s.Parameters, WeightsSha256 = s.WeightsSha256, Seconds = s.Seconds, Cancelled = s.Cancelled,
    };
}

using ParallelNet.Training.Actors;

namespace ParallelNet.Training.Jobs;

/// <summary>Runs each job on in-process actors: a coordinator, a parameter server and <see cref="JobRun.Workers"/> workers.</summary>
public sealed class InProcessJobRunner(int threadsPerWorker = 0, TimeProvider? time = null) : IJobRunner
{
    public async Task<TrainingSummary> RunAsync(JobRun run, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(run);
        var settings = new ActorTrainerSettings
        {
            Workers = run.Workers > 0 ? run.Workers : new ActorTrainerSettings().Workers,
            ThreadsPerWorker = threadsPerWorker,
            JobId = run.JobId,
        };
        var trainer = new ActorTrainer(run.Options, run.Data, settings, run.Observer, time);
        if (run.ResumeFrom is { } checkpoint) trainer.Restore(checkpoint);
        return await trainer.RunAsync(cancellation, run.Checkpoints).ConfigureAwait(false);
    }
}

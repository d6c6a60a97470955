using ParallelNet.Actors;

namespace ParallelNet.Training.Actors;

/// <summary>Drives a started <see cref="Coordinator"/> actor to the end of its job, wherever its workers live.</summary>
public static class CoordinatorRun
{
    /// <summary>
    /// Sends StartJob and waits for the summary. Cancelling sends CancelJob (the job ends after its step in flight);
    /// a crash of the coordinator itself, which would otherwise leave the job waiting forever, surfaces as a
    /// <see cref="TrainingException"/> naming <paramref name="what"/>.
    /// </summary>
    public static async Task<TrainingSummary> RunAsync(IActorRef coordinator, string what, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(coordinator);
        var crashed = new TaskCompletionSource<JobFinished>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var crashes = coordinator.System.EventStream.Subscribe<ActorError>(e =>
        {
            if (e.Actor.Equals(coordinator)) crashed.TrySetException(new TrainingException($"{what} failed: {e.Cause.Message}", e.Cause));
        });
        await using var onCancel = cancellation.Register(() => coordinator.Tell(new CancelJob()));
        var finished = coordinator.Ask<JobFinished>(new StartJob(), Timeout.InfiniteTimeSpan);
        var outcome = await Task.WhenAny(finished, crashed.Task).ConfigureAwait(false);
        return (await outcome.ConfigureAwait(false)).Summary;
    }
}

using ParallelNet.Training.Actors.Internal;

namespace ParallelNet.Training.Actors;

/// <summary>
/// How an actor-based job runs (not what it computes: the weights never depend on these settings).
/// </summary>
public sealed record ActorTrainerSettings
{
    /// <summary>
    /// In-process workers. Measured on 2 vCPUs (`parallelnet bench actors`): 2 workers of 1 thread
    /// each beat 1 worker of 2 threads, since whole shards in parallel need no synchronization.
    /// </summary>
    public int Workers { get; init; } = 2;

    /// <summary>CPU threads of each worker's kernels; 0 divides the machine's cores among the workers.</summary>
    public int ThreadsPerWorker { get; init; }

    /// <summary>A worker that has not finished its block this long after it was issued is declared lost and its block reissued.</summary>
    public TimeSpan StepTimeout { get; init; } = TimeSpan.FromMinutes(2);

    public string JobId { get; init; } = "local";

    /// <summary>Test seam: one worker misbehaves at one step.</summary>
    internal WorkerFault? Fault { get; init; }

    public int ResolvedThreadsPerWorker => ThreadsPerWorker > 0 ? ThreadsPerWorker : Math.Max(1, Environment.ProcessorCount / Math.Max(1, Workers));

    public void Validate()
    {
        if (Workers < 1 || Workers > 256) throw new ArgumentException($"workers must be between 1 and 256, got {Workers}.");
        if (ThreadsPerWorker < 0) throw new ArgumentException($"threads per worker must be non-negative (0 = share the cores), got {ThreadsPerWorker}.");
        if (StepTimeout <= TimeSpan.Zero) throw new ArgumentException($"the step timeout must be positive, got {StepTimeout}.");
        ArgumentException.ThrowIfNullOrWhiteSpace(JobId);
    }
}

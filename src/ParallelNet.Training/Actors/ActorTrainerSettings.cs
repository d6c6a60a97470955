using ParallelNet.Tensors;
using ParallelNet.Tensors.Cpu;
using ParallelNet.Training.Actors.Internal;

namespace ParallelNet.Training.Actors;

/// <summary>
/// How an actor-based job runs (not what it computes: the weights never depend on these settings).
/// </summary>
public sealed record ActorTrainerSettings
{
    /// <summary>
    /// In-process workers. Measured with `parallelnet bench actors` (MNIST, batch 128, S = 4) on this
    /// project's 2 vCPUs, which are hyper-thread siblings of one core: 2 workers of 1 thread ran 8 %
    /// (cnn) to 20 % (mlp) below 1 worker, and the plain loop gained nothing from a second thread
    /// either; one core has no parallelism to give. The default is still 2, so the job is spread
    /// wherever there are two real cores; the weights are the same for any count.
    /// </summary>
    public int Workers { get; init; } = 2;

    /// <summary>CPU threads of each worker's kernels; 0 divides the machine's cores among the workers.</summary>
    public int ThreadsPerWorker { get; init; }

    /// <summary>
    /// Worker i's compute backend (e.g. an OpenCL device); null gives every worker the CPU backend with
    /// <see cref="ResolvedThreadsPerWorker"/> threads. The caller owns what it returns (and disposes it after
    /// the job). Workers on different backends agree within the backends' stated tolerance, not bit for bit.
    /// </summary>
    public Func<int, ICompute>? WorkerCompute { get; init; }

    /// <summary>A worker that has not finished its block this long after it was issued is declared lost and its block reissued.</summary>
    public TimeSpan StepTimeout { get; init; } = TimeSpan.FromMinutes(2);

    public string JobId { get; init; } = "local";

    /// <summary>Test seam: one worker misbehaves at one step.</summary>
    internal WorkerFault? Fault { get; init; }

    public int ResolvedThreadsPerWorker => ThreadsPerWorker > 0 ? ThreadsPerWorker : Math.Max(1, Environment.ProcessorCount / Math.Max(1, Workers));

    public ICompute CreateWorkerCompute(int worker) => WorkerCompute?.Invoke(worker) ?? new CpuCompute(ResolvedThreadsPerWorker);

    public void Validate()
    {
        if (Workers < 1 || Workers > 256) throw new ArgumentException($"workers must be between 1 and 256, got {Workers}.");
        if (ThreadsPerWorker < 0) throw new ArgumentException($"threads per worker must be non-negative (0 = share the cores), got {ThreadsPerWorker}.");
        if (StepTimeout <= TimeSpan.Zero) throw new ArgumentException($"the step timeout must be positive, got {StepTimeout}.");
        ArgumentException.ThrowIfNullOrWhiteSpace(JobId);
    }
}

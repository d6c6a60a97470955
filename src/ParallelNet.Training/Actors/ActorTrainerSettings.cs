using ParallelNet.Actors;
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

    /// <summary>The job's first step waits until this many workers are live (started ones plus those that registered).</summary>
    public int MinWorkers { get; init; } = 1;

    /// <summary>Registrations beyond this many live workers are refused.</summary>
    public int MaxWorkers { get; init; } = 256;

    /// <summary>
    /// How long the job waits for workers to register when it has fewer than it needs (at the start, or
    /// after losing every worker mid-step) before it fails. Zero: fail at once, the in-process default.
    /// </summary>
    public TimeSpan WorkerWaitTimeout { get; init; } = TimeSpan.Zero;

    /// <summary>The job's data as its spec names it ("mnist", a CSV path...), handed to workers that register at runtime.</summary>
    public string DataSource { get; init; } = "";

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

    /// <summary>
    /// Where the coordinator starts the parameter server and its workers; null: the .NET thread pool
    /// (as in a cluster node). The caller owns it. When it is null <see cref="ActorTrainer"/> makes its
    /// own <see cref="DedicatedThreadDispatcher"/> of <see cref="InProcessActorThreads"/> threads for the
    /// whole job, the coordinator included.
    /// </summary>
    public Dispatcher? Dispatcher { get; init; }

    /// <summary>
    /// Threads for in-process actors: as many workers as the cores can run at once with their kernel
    /// threads, at least one. The step is synchronous (the parameter server and the coordinator work
    /// while the workers wait), so more would only make workers contend for the cores; and these
    /// threads sleep when idle instead of spinning like the thread pool's, which on hyper-thread
    /// siblings slowed the computing thread.
    /// </summary>
    public int InProcessActorThreads => Math.Clamp(Environment.ProcessorCount / ResolvedThreadsPerWorker, 1, Math.Max(1, Workers));

    /// <summary>
    /// CPU threads of the parameter server's kernels. With in-process CPU workers: as many as the workers compute
    /// with together (at most the cores), so that like the plain loop at that thread count a step never runs more
    /// compute threads than its workers do, and one worker's job wakes no helper threads; otherwise 0, every core
    /// (the server works while remote workers wait). Kernels give the same bits at any thread count.
    /// </summary>
    public int ParameterServerThreads => Workers == 0 || WorkerCompute is not null
        ? 0
        : Math.Min(Environment.ProcessorCount, Workers * ResolvedThreadsPerWorker);

    /// <summary>
    /// True: a step's blocks go to at most as many of the workers started in process as the job's
    /// <see cref="DedicatedThreadDispatcher"/> runs at once (<see cref="InProcessActorThreads"/> when the trainer makes it);
    /// the others stand by, follow the weights and take over the blocks of a lost worker. Workers beyond that count
    /// would wait for a thread anyway, and their blocks would only cut the batch into smaller, slower matrix products
    /// and add messages and additions to the step (measured with `parallelnet bench actors`: 4 workers on 2 threads).
    /// Registered (remote) workers always get blocks. False: every live worker gets a block of every step. Either
    /// way the weights are the same.
    /// </summary>
    public bool BlocksOnlyToConcurrentWorkers { get; init; } = true;

    /// <summary>Test seam: one worker misbehaves at one step.</summary>
    internal WorkerFault? Fault { get; init; }

    public int ResolvedThreadsPerWorker => ThreadsPerWorker > 0 ? ThreadsPerWorker : Math.Max(1, Environment.ProcessorCount / Math.Max(1, Workers));

    public ICompute CreateWorkerCompute(int worker) => WorkerCompute?.Invoke(worker) ?? new CpuCompute(ResolvedThreadsPerWorker);

    public void Validate()
    {
        if (Workers < 0 || Workers > 256) throw new ArgumentException($"workers must be between 0 and 256, got {Workers}.");
        if (MinWorkers < 1 || MaxWorkers < MinWorkers) throw new ArgumentException($"need 1 <= min workers <= max workers, got {MinWorkers} and {MaxWorkers}.");
        if (WorkerWaitTimeout < TimeSpan.Zero) throw new ArgumentException($"the worker wait timeout must not be negative, got {WorkerWaitTimeout}.");
        if (Workers < MinWorkers && WorkerWaitTimeout == TimeSpan.Zero)
            throw new ArgumentException($"{Workers} started workers are fewer than the {MinWorkers} needed, and no wait for registering workers is set.");
        if (ThreadsPerWorker < 0) throw new ArgumentException($"threads per worker must be non-negative (0 = share the cores), got {ThreadsPerWorker}.");
        if (StepTimeout <= TimeSpan.Zero) throw new ArgumentException($"the step timeout must be positive, got {StepTimeout}.");
        ArgumentException.ThrowIfNullOrWhiteSpace(JobId);
    }
}

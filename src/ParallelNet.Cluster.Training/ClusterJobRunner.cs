using ParallelNet.Actors;
using ParallelNet.Training;
using ParallelNet.Training.Actors;
using ParallelNet.Training.Jobs;

namespace ParallelNet.Cluster.Training;

/// <summary>How a coordinator node runs jobs on the workers of its cluster.</summary>
public sealed record ClusterJobSettings
{
    /// <summary>A job's first step waits for this many registered workers (capped by the job's own worker count).</summary>
    public int MinWorkers { get; init; } = 1;

    /// <summary>Registrations beyond this many live workers are refused; a job that names its worker count uses that instead.</summary>
    public int MaxWorkers { get; init; } = 256;

    /// <summary>How long a job waits for enough workers, at its start or after losing them all, before it fails.</summary>
    public TimeSpan WorkerWaitTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>A worker with no result this long after its block was issued is dropped (a lost node is noticed sooner, by membership).</summary>
    public TimeSpan StepTimeout { get; init; } = TimeSpan.FromMinutes(2);
}

/// <summary>
/// Runs jobs on a coordinator node: each job gets a coordinator and a parameter server on this node, and
/// its workers are the worker nodes that register through the <see cref="JobDesk"/>. They may come and go
/// mid-job without changing the weights. Resuming from <see cref="JobRun.ResumeFrom"/> is how a restarted
/// coordinator continues a job.
/// </summary>
public sealed class ClusterJobRunner(Func<ClusterNode> node, ClusterJobSettings? settings = null) : IJobRunner
{
    private readonly ClusterJobSettings _settings = settings ?? new ClusterJobSettings();
    private readonly Lock _deskGate = new();
    private int _jobs;

    public async Task<TrainingSummary> RunAsync(JobRun run, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(run);
        var cluster = node();
        var system = cluster.System;
        int max = run.Workers > 0 ? run.Workers : _settings.MaxWorkers;
        var actorSettings = new ActorTrainerSettings
        {
            Workers = 0,
            MinWorkers = Math.Min(_settings.MinWorkers, max),
            MaxWorkers = max,
            WorkerWaitTimeout = _settings.WorkerWaitTimeout,
            StepTimeout = _settings.StepTimeout,
            JobId = run.JobId,
            DataSource = run.DataSource,
        };
        var props = Coordinator.Props(run.Options, run.Data, actorSettings, run.Observer, run.ResumeFrom, run.Checkpoints);
        var coordinator = system.ActorOf(props, $"job-{Interlocked.Increment(ref _jobs)}");
        var desk = DeskOf(system);
        desk.Tell(new JobDesk.JobOpened(coordinator), ActorRefs.NoSender);
        try
        {
            return await CoordinatorRun.RunAsync(coordinator, $"The coordinator of job '{run.JobId}'", cancellation).ConfigureAwait(false);
        }
        finally
        {
            desk.Tell(new JobDesk.JobClosed(coordinator), ActorRefs.NoSender);
            // Stopping the coordinator stops its parameter server; worker nodes watching it drop their replicas and ask again.
            await ((Task)coordinator.GracefulStop(TimeSpan.FromSeconds(10))).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>The node's desk, created with the first job if the node has none yet.</summary>
    private IActorRef DeskOf(ActorSystem system)
    {
        lock (_deskGate)
        {
            var path = ActorPath.Root(system.Address) / "user" / JobDesk.Name;
            return system.TryResolve(path, out var desk) ? desk : system.ActorOf(JobDesk.Props(), JobDesk.Name);
        }
    }
}

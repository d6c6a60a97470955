using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ParallelNet.Actors;
using ParallelNet.Data;
using ParallelNet.Tensors;
using ParallelNet.Tensors.Cpu;
using ParallelNet.Training.Actors;

namespace ParallelNet.Cluster.Training;

/// <summary>How a worker node finds and serves jobs.</summary>
public sealed record WorkerHostSettings
{
    /// <summary>Where the job's data is read from ("mnist" needs the IDX files here); null: the default cache.</summary>
    public string? DataDirectory { get; init; }

    /// <summary>The compute backend of each replica; by default the CPU with every core.</summary>
    public Func<ICompute> ComputeFactory { get; init; } = () => new CpuCompute(0);

    /// <summary>
    /// The replica's compute thread offers its core to other runnable threads between layers (see
    /// <see cref="ParallelNet.NN.Model.BetweenLayers"/>): a worker node shares its cores with its network threads, and on
    /// one host with the coordinator and the other workers, whose wake-ups otherwise wait for a compute time slice.
    /// </summary>
    public bool YieldBetweenLayers { get; init; } = true;

    /// <summary>How often to ask the coordinator again when it runs no job, refused us, or did not answer.</summary>
    public TimeSpan RetryInterval { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>
/// The worker node's agent. It watches membership for a node with the "coordinator" role, asks that
/// node's <see cref="JobDesk"/> for the running job, builds a model replica (a <see cref="Worker"/>) on
/// the job's data and registers it with the job's coordinator. When the job ends, the coordinator stops,
/// or its node is removed (a restart), the replica is dropped and the host asks again, so workers
/// reconnect by themselves. A job it cannot serve (data missing) is logged and retried, never fatal.
/// </summary>
public sealed class WorkerHost : ReceiveActor
{
    public const string CoordinatorRole = "coordinator";
    private const string RetryTimer = "ask-again";

    private readonly ClusterNode _node;
    private readonly WorkerHostSettings _settings;
    private readonly ILogger _log;
    private readonly Dictionary<string, DataSplit> _data = [];
    private Member? _coordinatorNode;
    private JobContext? _job;
    private IActorRef? _worker;
    private int _generation;

    private WorkerHost(ClusterNode node, WorkerHostSettings settings, ILogger log)
    {
        _node = node;
        _settings = settings;
        _log = log;
        Receive<MemberUp>(OnMemberUp);
        Receive<MemberRemoved>(OnMemberRemoved);
        Receive<MemberEvent>(_ => { });
        Receive<AskAgain>(_ => AskForJob());
        Receive<JobContext>(Join);
        Receive<NoJobRunning>(_ => Retry());
        Receive<WorkerRegistered>(r => _log.LogInformation("Worker {Worker} registered with job {Job} as worker {Index}.", _worker?.Path.Name, r.JobId, r.Index));
        Receive<WorkerRefused>(r =>
        {
            _log.LogWarning("Job {Job} refused this worker: {Reason}", r.JobId, r.Reason);
            Drop();
            Retry();
        });
        Receive<Terminated>(OnTerminated);
    }

    public static Props Props(ClusterNode node, WorkerHostSettings? settings = null, ILoggerFactory? loggers = null)
    {
        ArgumentNullException.ThrowIfNull(node);
        var log = (loggers ?? NullLoggerFactory.Instance).CreateLogger<WorkerHost>();
        return ParallelNet.Actors.Props.Create(() => new WorkerHost(node, settings ?? new WorkerHostSettings(), log));
    }

    /// <summary>The current job's id, for tests and status; null while idle.</summary>
    internal string? JobId => _job?.JobId;

    // A replica that fails is stopped, never restarted: it may be half-updated; the host asks for the job again.
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(cause =>
    {
        _log.LogWarning("The worker replica failed: {Message}", cause.Message);
        return Directive.Stop;
    });

    protected override void PreStart() => _node.Subscribe(Self);

    protected override void PostStop() => _node.Unsubscribe(Self);

    private void OnMemberUp(MemberUp up)
    {
        if (!up.Member.HasRole(CoordinatorRole)) return;
        _log.LogInformation("Coordinator node {Member} is up.", up.Member);
        _coordinatorNode = up.Member;
        AskForJob();
    }

    private void OnMemberRemoved(MemberRemoved removed)
    {
        if (!removed.Member.Equals(_coordinatorNode)) return;
        _log.LogWarning("Coordinator node {Member} was removed ({Reason}); waiting for it to come back.", removed.Member, removed.Reason);
        _coordinatorNode = null;
        Drop();
    }

    private void AskForJob()
    {
        if (_job is not null || _coordinatorNode is null) return;
        _node.ActorRefFor(_coordinatorNode.Address, JobDesk.Path).Tell(new RequestJobContext(), Self);
        Retry(); // asks again if no answer comes
    }

    private void Retry() => Timers.StartSingleTimer(RetryTimer, AskAgain.Instance, _settings.RetryInterval);

    private void Join(JobContext job)
    {
        if (_job is not null) return;
        DataSplit data;
        try
        {
            if (!_data.TryGetValue(job.DataSource, out data!))
            {
                data = DatasetCatalog.Load(job.DataSource, _settings.DataDirectory);
                _data[job.DataSource] = data;
            }
            var node = _node;
            // On one host the gradient sums are computed in this node's ring, where they leave from without a copy.
            ReserveBuffer reserve = (recipient, count) => node.TryReserveTensor(recipient, count) is { } room ? new ReservedBuffer(room.Values, room.Cancel) : null;
            var worker = Context.ActorOf(Worker.Props(job.JobId, 0, job.Options, data.Train, _settings.ComputeFactory(), job.ParameterServer, reserve,
                _settings.YieldBetweenLayers), $"worker-{++_generation}");
            Context.Watch(worker);
            Context.Watch(job.Coordinator);
            _worker = worker;
            _job = job;
            job.Coordinator.Tell(new RegisterWorker(job.JobId, worker), Self);
            _log.LogInformation("Joining job {Job} (data '{Data}', {Samples} training samples).", job.JobId, job.DataSource, data.Train.Count);
        }
        catch (Exception e) when (e is DataException or IOException or UnauthorizedAccessException or ArgumentException or ParallelNet.Training.TrainingException)
        {
            _log.LogError("Cannot serve job {Job}: {Message} Asking again in {Seconds} s.", job.JobId, e.Message, _settings.RetryInterval.TotalSeconds);
            Retry();
        }
    }

    private void OnTerminated(Terminated terminated)
    {
        if (_job is not null && terminated.ActorRef.Equals(_job.Coordinator))
        {
            _log.LogInformation("Job {Job} ended or its coordinator stopped; asking for the next job.", _job.JobId);
            Drop();
            Retry();
        }
        else if (_worker is not null && terminated.ActorRef.Equals(_worker))
        {
            _log.LogWarning("The replica of job {Job} stopped; asking to join again.", _job?.JobId);
            _worker = null;
            Drop();
            Retry();
        }
    }

    private void Drop()
    {
        if (_job is not null) Context.Unwatch(_job.Coordinator);
        if (_worker is not null)
        {
            Context.Unwatch(_worker);
            Context.Stop(_worker);
        }
        _job = null;
        _worker = null;
    }

    private sealed record AskAgain
    {
        public static readonly AskAgain Instance = new();
    }
}

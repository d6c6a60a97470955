using ParallelNet.Actors;
using ParallelNet.Data;
using ParallelNet.NN;
using ParallelNet.Tensors.Cpu;
using ParallelNet.Training.Actors.Internal;

namespace ParallelNet.Training.Actors;

/// <summary>
/// Owns a job: epoch, step and weights version. It starts the parameter server and the workers as
/// its children, plans each step (the batch's virtual shards dealt out in aligned blocks over the
/// live workers), evaluates after every epoch, checkpoints every K steps and at epoch ends, and
/// reports progress. A worker that fails, stops or misses the step timeout is dropped: its blocks
/// go unchanged to the survivors, so the step's sum is bitwise what it would have been.
/// Between plain steps (no evaluation or checkpoint due) the next step is issued ahead, once the first
/// block of the current one is computed: workers hold it until the weights it names arrive from the
/// parameter server, which takes the coordinator off the critical path of the step. Issued then (a
/// worker is idle, waiting for the others) rather than when the step's weights go out, the commands do
/// not compete for the cores with the weights' way to the workers.
/// </summary>
public sealed partial class Coordinator : ReceiveActor
{
    private const string StepTimer = "step-timeout";

    private readonly string _jobId;
    private readonly TrainingOptions _options;
    private readonly DataSplit _data;
    private readonly ActorTrainerSettings _settings;
    private readonly ITrainingObserver _observer;
    private readonly TrainingCheckpoint? _resumeFrom;
    private readonly CheckpointPolicy? _checkpoints;
    private readonly int _stepsPerEpoch;
    private readonly long _totalSteps;
    private readonly List<WorkerSlot> _workers = [];
    private readonly Queue<FollowUp> _followUps = new();
    private IActorRef _parameterServer = null!;
    private IActorRef? _requester;
    private IActorRef? _pauseRequester;
    private StepInFlight? _step;
    // The step after _step, issued ahead so that workers start it the moment its weights arrive,
    // without waiting for a round trip through the coordinator. Only plain steps are issued ahead:
    // never across an evaluation, a checkpoint, the end of the job, a pause or a cancel.
    private StepInFlight? _next;
    private FollowUp? _awaiting;
    private TrainingProgress _progress;
    private EpochCompleted _lastEpoch;
    private long _trainableParameters;
    private long _runStart, _epochStart, _epochSamples, _samplesThisRun;
    private bool _paused, _cancelRequested, _cancelled, _finishing, _done;
    private string? _lastChildFailure;

    private Coordinator(string jobId, TrainingOptions options, DataSplit data, ActorTrainerSettings settings, ITrainingObserver observer,
        TrainingCheckpoint? resumeFrom, CheckpointPolicy? checkpoints)
    {
        _jobId = jobId;
        _options = options;
        _data = data;
        _settings = settings;
        _observer = observer;
        _resumeFrom = resumeFrom;
        _checkpoints = checkpoints;
        _stepsPerEpoch = StepsPerEpoch(options, data);
        _totalSteps = TotalSteps(options, data);
        _progress = resumeFrom?.Progress ?? TrainingProgress.Start;
        _lastEpoch = new EpochCompleted(_progress.Epoch, _progress.Step, double.NaN, double.NaN, double.NaN, 0, 0);

        Receive<StartJob>(_ => Start());
        Receive<PauseJob>(_ => Pause());
        Receive<ResumeJob>(_ => ResumeAfterPause());
        Receive<CancelJob>(_ => Cancel());
        Receive<BlockCompleted>(OnBlockCompleted, m => m.JobId == _jobId);
        Receive<StepApplied>(OnStepApplied, m => m.JobId == _jobId);
        Receive<StepTimedOut>(OnStepTimedOut);
        Receive<CheckpointCaptured>(OnCheckpointCaptured, m => m.JobId == _jobId);
        Receive<WeightsEvaluated>(OnEvaluated, m => m.JobId == _jobId);
        Receive<WeightsHashReported>(OnWeightsHash, m => m.JobId == _jobId);
        Receive<Terminated>(OnTerminated);
        ReceiveRegistrations();
    }

    public static Props Props(TrainingOptions options, DataSplit data, ActorTrainerSettings settings, ITrainingObserver? observer = null,
        TrainingCheckpoint? resumeFrom = null, CheckpointPolicy? checkpoints = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(settings);
        options.Validate();
        settings.Validate();
        if (data.Train.SampleShape.Size != options.Model.Input.Size)
            throw new TrainingException($"The model expects inputs of shape {options.Model.Input} but the data '{data.Train.Name}' has samples of shape {data.Train.SampleShape}.");
        if (data.Train.Count == 0) throw new TrainingException($"The training split of '{data.Train.Name}' is empty; there is nothing to train on.");
        var reporter = observer ?? new SilentObserver();
        return ParallelNet.Actors.Props.Create(() => new Coordinator(settings.JobId, options, data, settings, reporter, resumeFrom, checkpoints));
    }

    /// <summary>Steps per epoch: every training sample once, the last batch possibly smaller (PyTorch drop_last=False).</summary>
    public static int StepsPerEpoch(TrainingOptions options, DataSplit data) => (data.Train.Count + options.BatchSize - 1) / options.BatchSize;

    public static long TotalSteps(TrainingOptions options, DataSplit data)
    {
        long all = (long)StepsPerEpoch(options, data) * options.Epochs;
        return options.MaxSteps > 0 ? Math.Min(all, options.MaxSteps) : all;
    }

    // A failed child is stopped, never restarted: a worker's replica may be half-updated, and the
    // job goes on without it; a failed parameter server ends the job (see OnTerminated).
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(cause =>
    {
        _lastChildFailure = cause.Message;
        return Directive.Stop;
    });

    protected override void PreStart()
    {
        _trainableParameters = Model.Create(_options.Model, new CpuCompute(1), 1).Layout.TrainableCount;
        // On the thread pool (a cluster node) the server lets this actor's queued messages run before each step's
        // update, which takes every core; a job's own dedicated threads (in process) need no such turn.
        _parameterServer = Context.ActorOf(OnJobDispatcher(ParameterServer.Props(_jobId, _options, _data, new CpuCompute(_settings.ParameterServerThreads), _totalSteps,
            _resumeFrom, yieldBeforeApply: _settings.Dispatcher is null)), "parameter-server");
        Context.Watch(_parameterServer);
        for (int i = 0; i < _settings.Workers; i++)
        {
            var props = OnJobDispatcher(Worker.Props(_jobId, i, _options, _data.Train, _settings.CreateWorkerCompute(i), _parameterServer, _settings.Fault));
            var slot = new WorkerSlot(i, Context.ActorOf(props, $"worker-{i + 1}"));
            Context.Watch(slot.Actor);
            _workers.Add(slot);
        }
    }

    private Props OnJobDispatcher(Props props) => _settings.Dispatcher is { } dispatcher ? props.WithDispatcher(dispatcher) : props;

    private IEnumerable<WorkerSlot> Live => _workers.Where(w => w.Live);

    /// <summary>
    /// The live workers that get the blocks of a step: every worker that registered, and of those this coordinator
    /// started in process at most as many as the job's dedicated dispatcher runs at once, lowest index first (see
    /// <see cref="ActorTrainerSettings.BlocksOnlyToConcurrentWorkers"/>). The others stand by: they follow the weights
    /// and take over when a worker is lost.
    /// </summary>
    private List<WorkerSlot> BlockTakers(List<WorkerSlot> live)
    {
        if (!_settings.BlocksOnlyToConcurrentWorkers || _settings.Dispatcher is not DedicatedThreadDispatcher dispatcher) return live;
        int concurrent = dispatcher.ThreadCount;
        var takers = new List<WorkerSlot>(live.Count);
        foreach (var worker in live)
        {
            bool startedHere = worker.Index < _settings.Workers; // registered workers are numbered after them
            if (startedHere && concurrent-- <= 0) continue;
            takers.Add(worker);
        }
        return takers;
    }

    private void Start()
    {
        if (_requester is not null)
        {
            Sender.Tell(new Status.Failure(new InvalidOperationException($"Job '{_jobId}' has already started; a coordinator runs one job.")), Self);
            return;
        }
        _requester = Sender;
        _runStart = _epochStart = Context.System.TimeProvider.GetTimestamp();
        foreach (var w in _workers) Report(w, WorkerStatus.Joined);
        Continue();
    }

    /// <summary>Takes the next action once nothing is in flight: a follow-up, the end of the job, a pause, or the next step.</summary>
    private void Continue()
    {
        if (_requester is null || _done || _step is not null || _awaiting is not null) return;
        if (_followUps.TryDequeue(out var next))
        {
            _awaiting = next;
            object request = next.Kind switch
            {
                FollowUpKind.Evaluate => new EvaluateWeights(_jobId),
                FollowUpKind.Checkpoint => new CaptureCheckpoint(_jobId, _progress),
                _ => new ReportWeightsHash(_jobId),
            };
            _parameterServer.Tell(request, Self);
            return;
        }
        if (_finishing) return;
        if (_cancelRequested || _progress.Step >= _totalSteps)
        {
            _cancelled = _cancelRequested && _progress.Step < _totalSteps;
            _finishing = true;
            if (_checkpoints is not null && (_cancelled || _progress.StepInEpoch != 0)) _followUps.Enqueue(new FollowUp(FollowUpKind.Checkpoint));
            _followUps.Enqueue(new FollowUp(FollowUpKind.Hash));
            Continue();
            return;
        }
        if (_paused)
        {
            _pauseRequester?.Tell(new JobPaused(_progress.Step), Self);
            _pauseRequester = null;
            return;
        }
        PlanStep();
    }

    private void PlanStep()
    {
        var live = Live.ToList();
        int needed = _samplesThisRun == 0 ? _settings.MinWorkers : 1; // MinWorkers gates only the first step of a run
        if (live.Count < needed)
        {
            if (WaitForWorkers(live.Count, needed)) return;
            Fail(new TrainingException($"Every worker of job '{_jobId}' was lost{(_lastChildFailure is null ? "" : $" (last failure: {_lastChildFailure})")}; the job cannot continue. Resume it from its last checkpoint."));
            return;
        }
        int batchStart = _progress.StepInEpoch * _options.BatchSize;
        int batchCount = Math.Min(_options.BatchSize, _data.Train.Count - batchStart);
        _step = new StepInFlight(_progress.Step + 1, _progress.Epoch, batchStart, batchCount, Context.System.TimeProvider.GetTimestamp());
        IssueAll(_step, BlockTakers(live));
        ArmTimeout();
    }

    private void IssueAll(StepInFlight step, List<WorkerSlot> live)
    {
        var blocks = ShardPlan.AssignBlocks(_options.VirtualShards, live.Count);
        for (int k = 0; k < blocks.Count; k++) Issue(step, blocks[k], live[k]);
    }

    private void IssueNextAhead()
    {
        if (_step is not { } current || _next is not null || _paused || _cancelRequested || _done || _waitingForWorkers || !Live.Any()) return;
        int stepInEpoch = current.BatchStart / _options.BatchSize;
        bool followUpsDue = current.Step >= _totalSteps || stepInEpoch + 1 >= _stepsPerEpoch
            || (_checkpoints is { Every: > 0 } && current.Step % _checkpoints.Every == 0);
        if (followUpsDue) return;
        int batchStart = current.BatchStart + _options.BatchSize;
        _next = new StepInFlight(current.Step + 1, current.Epoch, batchStart, Math.Min(_options.BatchSize, _data.Train.Count - batchStart), 0);
        IssueAll(_next, BlockTakers(Live.ToList()));
    }

    private void Issue(StepInFlight step, ShardBlock block, WorkerSlot worker)
    {
        step.Outstanding[block.FirstShard] = (block, worker);
        worker.Actor.Tell(new ComputeGradients(_jobId, step.Epoch, step.Step, step.Step - 1, step.BatchStart, step.BatchCount, _options.VirtualShards, block), Self);
    }

    private void ArmTimeout()
    {
        var step = _step!;
        step.Attempt++;
        Timers.StartSingleTimer(StepTimer, new StepTimedOut(step.Step, step.Attempt), _settings.StepTimeout);
    }

    private void OnBlockCompleted(BlockCompleted done)
    {
        var worker = _workers.FirstOrDefault(w => w.Actor.Equals(Sender));
        if (worker is null || !worker.Live) return;
        worker.ShardsDone += done.Block.ShardCount;
        worker.SamplesDone += done.Samples;
        worker.LastSamplesPerSecond = done.Samples / Math.Max(done.Seconds, 1e-9);
        foreach (var step in new[] { _step, _next })
        {
            if (step is not null && step.Step == done.Step && step.Outstanding.TryGetValue(done.Block.FirstShard, out var held) && held.Block == done.Block)
            {
                step.Outstanding.Remove(done.Block.FirstShard);
                step.AnyBlockDone = true;
            }
        }
        Report(worker, WorkerStatus.Working, done.Step);
        if (_step is { } current && current.Step == done.Step) IssueNextAhead();
    }

    private void OnStepApplied(StepApplied applied)
    {
        if (_step is null || applied.Step != _step.Step) return;
        var step = _step;
        _step = null;
        Timers.Cancel(StepTimer);
        if (!applied.Applied && !_options.SkipNonFiniteSteps)
        {
            Fail(new TrainingException($"Step {applied.Step} produced a non-finite gradient ({applied.Rejection}); the weights were not changed. Lower the learning rate, enable gradient clipping, or skip such steps."));
            return;
        }

        int epochOfStep = _progress.Epoch;
        int stepInEpoch = _progress.StepInEpoch + 1;
        _progress = _progress.Advance(_stepsPerEpoch, applied.LossSum, applied.Samples);
        _samplesThisRun += applied.Samples;
        _epochSamples += applied.Samples;
        double seconds = Math.Max(Context.System.TimeProvider.GetElapsedTime(step.StartTimestamp).TotalSeconds, 1e-9);
        _observer.OnStep(new StepCompleted(epochOfStep, applied.Step, stepInEpoch, _stepsPerEpoch, applied.LossSum / applied.Samples, applied.Samples / seconds, !applied.Applied));

        bool epochFinished = _progress.StepInEpoch == 0;
        if (_checkpoints is { Every: > 0 } && applied.Step % _checkpoints.Every == 0 && !epochFinished)
            _followUps.Enqueue(new FollowUp(FollowUpKind.Checkpoint));
        if (epochFinished || _progress.Step >= _totalSteps)
        {
            _followUps.Enqueue(new FollowUp(FollowUpKind.Evaluate));
            if (_checkpoints is not null && epochFinished) _followUps.Enqueue(new FollowUp(FollowUpKind.Checkpoint));
        }
        if (_next is not null)
        {
            // Issued ahead only when nothing was due after this step, so it simply becomes current.
            _step = _next;
            _next = null;
            _step.StartTimestamp = Context.System.TimeProvider.GetTimestamp();
            if (!_waitingForWorkers) ArmTimeout(); // else its blocks wait for a worker to register
            // A block of it may be computed already (its report overtook this one).
            if (_step.AnyBlockDone) IssueNextAhead();
            return;
        }
        Continue();
    }

    private void OnStepTimedOut(StepTimedOut timeout)
    {
        if (_step is not { } step || step.Step != timeout.Step || step.Attempt != timeout.Attempt) return;
        var late = step.Outstanding.Values.Select(o => o.Worker).Where(w => w.Live).Distinct().ToList();
        foreach (var worker in late)
        {
            Context.Stop(worker.Actor);
            Lose(worker, $"no result for step {step.Step} within {_settings.StepTimeout.TotalSeconds:0.#} s");
        }
    }

    private void OnTerminated(Terminated terminated)
    {
        if (_done) return; // children stop with the finished job
        if (terminated.ActorRef.Equals(_parameterServer))
        {
            Fail(new TrainingException($"The parameter server of job '{_jobId}' stopped{(_lastChildFailure is null ? "" : $": {_lastChildFailure}")}. Resume the job from its last checkpoint."));
            return;
        }
        var worker = _workers.FirstOrDefault(w => w.Actor.Equals(terminated.ActorRef));
        string reason = _lastChildFailure ?? "stopped";
        _lastChildFailure = null;
        if (worker is not null && worker.Live) Lose(worker, reason);
    }

    /// <summary>Drops a worker and reissues its unfinished blocks of the step in flight, round robin over the survivors.</summary>
    private void Lose(WorkerSlot worker, string reason)
    {
        worker.Live = false;
        Report(worker, WorkerStatus.Lost, _step?.Step ?? _progress.Step, reason);
        if (_done || _step is null) return;
        if (!Live.Any())
        {
            if (WaitForWorkers(0, 1)) return;
            Fail(new TrainingException($"Every worker of job '{_jobId}' was lost (last: {worker.Name}, {reason}); the job cannot continue. Resume it from its last checkpoint."));
            return;
        }
        ReissueOrphans();
    }

    /// <summary>Gives the unfinished blocks of lost workers, unchanged, round robin to the live ones.</summary>
    private void ReissueOrphans()
    {
        var survivors = Live.ToList();
        foreach (var step in new[] { _step, _next })
        {
            if (step is null) continue;
            var orphaned = step.Outstanding.Values.Where(o => !o.Worker.Live).Select(o => o.Block).OrderBy(b => b.FirstShard).ToList();
            if (orphaned.Count == 0) continue;
            for (int i = 0; i < orphaned.Count; i++) Issue(step, orphaned[i], survivors[i % survivors.Count]);
            if (step == _step) ArmTimeout();
        }
    }

    private void OnCheckpointCaptured(CheckpointCaptured captured)
    {
        if (_awaiting is not { Kind: FollowUpKind.Checkpoint } || _checkpoints is null) return;
        _awaiting = null;
        try
        {
            captured.Checkpoint.Save(_checkpoints.Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Fail(new TrainingException($"Could not write the checkpoint '{_checkpoints.Path}': {e.Message}", e));
            return;
        }
        _observer.OnCheckpoint(new CheckpointWritten(_checkpoints.Path, captured.Checkpoint.Progress.Step));
        Continue();
    }

    private void OnEvaluated(WeightsEvaluated evaluated)
    {
        if (_awaiting is not { Kind: FollowUpKind.Evaluate }) return;
        _awaiting = null;
        var time = Context.System.TimeProvider;
        double seconds = time.GetElapsedTime(_epochStart).TotalSeconds;
        bool epochFinished = _progress.StepInEpoch == 0;
        int reportedEpoch = epochFinished ? _progress.Epoch - 1 : _progress.Epoch;
        _lastEpoch = new EpochCompleted(reportedEpoch, _progress.Step,
            epochFinished ? _progress.PreviousEpochLoss : _progress.EpochLossSum / Math.Max(1, _progress.EpochSamples),
            evaluated.TestLoss, evaluated.TestAccuracy, seconds, _epochSamples / Math.Max(seconds, 1e-9));
        _observer.OnEpoch(_lastEpoch);
        _epochStart = time.GetTimestamp();
        _epochSamples = 0;
        Continue();
    }

    private void OnWeightsHash(WeightsHashReported hash)
    {
        if (_awaiting is not { Kind: FollowUpKind.Hash }) return;
        _awaiting = null;
        double totalSeconds = Context.System.TimeProvider.GetElapsedTime(_runStart).TotalSeconds;
        var summary = new TrainingSummary(_lastEpoch.TestAccuracy, _lastEpoch.TestLoss, _lastEpoch.TrainLoss, _lastEpoch.Epoch + 1, _progress.Step,
            _samplesThisRun / Math.Max(totalSeconds, 1e-9), _trainableParameters, hash.WeightsSha256, totalSeconds, _cancelled);
        _done = true;
        _requester?.Tell(new JobFinished(summary), Self);
    }

    private void Pause()
    {
        if (_done || _finishing)
        {
            // No step runs or will run again: the pause holds already, and the asker must not wait for nothing.
            Sender.Tell(new JobPaused(_progress.Step), Self);
            return;
        }
        _paused = true;
        _pauseRequester = Sender;
        Continue();
    }

    private void ResumeAfterPause()
    {
        Sender.Tell(new JobResumed(_progress.Step), Self);
        if (!_paused) return;
        _paused = false;
        Continue();
    }

    private void Cancel()
    {
        _cancelRequested = true;
        _paused = false;
        Continue();
    }

    private void Fail(Exception error)
    {
        if (_done) return;
        _done = true;
        _step = _next = null;
        Timers.CancelAll();
        _requester?.Tell(new Status.Failure(error), Self);
    }

    private void Report(WorkerSlot w, WorkerStatus status, long? step = null, string? reason = null)
        => _observer.OnWorker(new WorkerActivity(w.Index, w.Name, status, step ?? _progress.Step, w.ShardsDone, w.SamplesDone, w.LastSamplesPerSecond, reason));

    private enum FollowUpKind { Evaluate, Checkpoint, Hash }

    private sealed record FollowUp(FollowUpKind Kind);

    private sealed record StepTimedOut(long Step, int Attempt);

    private sealed class SilentObserver : ITrainingObserver;
}

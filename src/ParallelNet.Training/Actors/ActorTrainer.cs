using ParallelNet.Actors;
using ParallelNet.Data;
using ParallelNet.NN;
using ParallelNet.NN.Optimizers;
using ParallelNet.Tensors.Cpu;

namespace ParallelNet.Training.Actors;

/// <summary>
/// Trains with in-process actors: a coordinator, a parameter server and N workers in an actor system
/// of their own. For the same options and data the weights are bitwise those of <see cref="LocalTrainer"/>,
/// whatever the number of workers, and also when workers are lost along the way.
/// </summary>
public sealed class ActorTrainer
{
    private readonly TrainingOptions _options;
    private readonly DataSplit _data;
    private readonly ActorTrainerSettings _settings;
    private readonly ITrainingObserver? _observer;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private IActorRef? _coordinator;
    private TrainingCheckpoint? _resumeFrom;

    public ActorTrainer(TrainingOptions options, DataSplit data, ActorTrainerSettings? settings = null, ITrainingObserver? observer = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(data);
        options.Validate();
        settings ??= new ActorTrainerSettings();
        settings.Validate();
        if (data.Train.SampleShape.Size != options.Model.Input.Size)
            throw new TrainingException($"The model expects inputs of shape {options.Model.Input} but the data '{data.Train.Name}' has samples of shape {data.Train.SampleShape}.");
        _options = options;
        _data = data;
        _settings = settings;
        _observer = observer;
        _time = time ?? TimeProvider.System;
        Layout = Model.Create(options.Model, new CpuCompute(1), 1).Layout;
    }

    public ParameterLayout Layout { get; }
    public ActorTrainerSettings Settings => _settings;
    public TrainingProgress Progress => _resumeFrom?.Progress ?? TrainingProgress.Start;
    public int StepsPerEpoch => Coordinator.StepsPerEpoch(_options, _data);
    public long TotalSteps => Coordinator.TotalSteps(_options, _data);

    /// <summary>Continue from a checkpoint's weights, optimizer state and position; refuses one that does not fit the model.</summary>
    public void Restore(TrainingCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        // Fail here, with the checkpoint's own message, rather than inside the parameter server.
        var probe = Model.Create(_options.Model, new CpuCompute(1), 1);
        checkpoint.ApplyTo(probe, new Optimizer(_options.Optimizer, probe.Layout, probe.Compute));
        _resumeFrom = checkpoint;
    }

    public TrainingSummary Run(CancellationToken cancellation = default, CheckpointPolicy? checkpoints = null)
        => RunAsync(cancellation, checkpoints).GetAwaiter().GetResult();

    /// <summary>
    /// Runs the job to its end. Cancelling finishes the step in flight, writes the final checkpoint
    /// (when <paramref name="checkpoints"/> is given) and returns a summary marked Cancelled.
    /// </summary>
    public async Task<TrainingSummary> RunAsync(CancellationToken cancellation = default, CheckpointPolicy? checkpoints = null)
    {
        // Disposed after the actor system (declared first): by then every actor has stopped.
        using var ownDispatcher = _settings.Dispatcher is null ? new DedicatedThreadDispatcher("trainer", _settings.InProcessActorThreads) : null;
        Dispatcher dispatcher = _settings.Dispatcher ?? ownDispatcher!;
        await using var system = ActorSystem.Create("trainer", _time);
        var props = Coordinator.Props(_options, _data, _settings with { Dispatcher = dispatcher }, _observer, _resumeFrom, checkpoints).WithDispatcher(dispatcher);
        var coordinator = system.ActorOf(props, "coordinator");
        lock (_gate) _coordinator = coordinator;
        try
        {
            return await CoordinatorRun.RunAsync(coordinator, "The coordinator", cancellation).ConfigureAwait(false);
        }
        finally
        {
            lock (_gate) _coordinator = null;
        }
    }

    /// <summary>Stops after the step in flight; the task completes once no step runs. Only while <see cref="RunAsync"/> runs.</summary>
    public Task<JobPaused> PauseAsync(TimeSpan timeout) => Running().Ask<JobPaused>(new PauseJob(), timeout);

    public Task<JobResumed> ResumeAsync(TimeSpan timeout) => Running().Ask<JobResumed>(new ResumeJob(), timeout);

    private IActorRef Running()
    {
        lock (_gate)
            return _coordinator ?? throw new InvalidOperationException("The job is not running: call PauseAsync/ResumeAsync while RunAsync is in progress.");
    }
}

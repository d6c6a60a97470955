using ParallelNet.Actors;
using ParallelNet.Tensors.Cpu;
using ParallelNet.Testing;
using ParallelNet.Training.Actors;
using static ParallelNet.Training.Tests.TrainingFixtures;

namespace ParallelNet.Training.Tests.Actors;

/// <summary>Workers that register at runtime, as cluster nodes do: same weights whenever they come and go.</summary>
public sealed class RegistrationTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static ActorTrainerSettings Registering(int started = 0, int min = 1, int max = 256) => new()
    {
        Workers = started, MinWorkers = min, MaxWorkers = max, ThreadsPerWorker = 1, WorkerWaitTimeout = TimeSpan.FromSeconds(30), DataSource = "spirals",
    };

    /// <summary>Starts a worker the way a cluster node does: ask for the job, build a replica, register it.</summary>
    private static async Task<IActorRef> JoinAsync(ActorSystem system, IActorRef coordinator, string name, Action<IActorRef>? created = null)
    {
        var context = await coordinator.Ask<JobContext>(new RequestJobContext(), Patience);
        var data = Spirals();
        var worker = system.ActorOf(Worker.Props(context.JobId, 0, context.Options, data.Train, new CpuCompute(1), context.ParameterServer), name);
        created?.Invoke(worker);
        await coordinator.Ask<WorkerRegistered>(new RegisterWorker(context.JobId, worker), Patience);
        return worker;
    }

    [Fact]
    public async Task WorkersThatRegisterTrainToThePlainLoopsWeights()
    {
        var data = Spirals();
        var options = Options(data, epochs: 2);
        var reference = Trainer(options, data).Run();
        await using var system = ActorSystem.Create("registration");
        var coordinator = system.ActorOf(Coordinator.Props(options, data, Registering(min: 2)), "coordinator");
        var finished = coordinator.Ask<JobFinished>(new StartJob(), Patience);
        var context = await coordinator.Ask<JobContext>(new RequestJobContext(), Patience);
        Assert.Equal("spirals", context.DataSource);
        await JoinAsync(system, coordinator, "w1");
        await Task.Delay(50);
        Assert.False(finished.IsCompleted); // MinWorkers = 2: one worker is not enough to start
        await JoinAsync(system, coordinator, "w2");
        var summary = (await finished).Summary;
        Assert.Equal(reference.WeightsSha256, summary.WeightsSha256);
    }

    [Fact]
    public async Task AWorkerJoiningMidJobTakesPartAndChangesNothing()
    {
        var data = Spirals();
        var options = Options(data, epochs: 2);
        var reference = Trainer(options, data).Run();
        await using var system = ActorSystem.Create("join");
        // The pause is asked from the coordinator's own step report, so however late this test's thread runs,
        // the job stops within a step or two and cannot end before the late worker joins.
        IActorRef coordinator = null!;
        var paused = new TaskCompletionSource<Task<JobPaused>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var observer = new ConcurrentObserver { AfterStep = s => { if (s.Step == 4) paused.TrySetResult(coordinator.Ask<JobPaused>(new PauseJob(), Patience)); } };
        coordinator = system.ActorOf(Coordinator.Props(options, data, Registering(started: 1), observer), "coordinator");
        var finished = coordinator.Ask<JobFinished>(new StartJob(), Patience);
        var pausedAt = await await paused.Task.WaitAsync(Patience);
        Assert.True(pausedAt.Step < 10, $"paused at step {pausedAt.Step}");
        await JoinAsync(system, coordinator, "late");
        await coordinator.Ask<JobResumed>(new ResumeJob(), Patience);
        var summary = (await finished).Summary;
        Assert.Equal(reference.WeightsSha256, summary.WeightsSha256);
        Assert.Contains(observer.Workers, w => w.Name == "late" && w.Status == WorkerStatus.Working);
    }

    [Fact]
    public async Task AfterLosingEveryWorkerTheJobWaitsForANewOneAndEndsWithTheSameWeights()
    {
        var data = Spirals();
        var options = Options(data, epochs: 2);
        var reference = Trainer(options, data).Run();
        await using var system = ActorSystem.Create("lose-all");
        // The only worker is stopped from the coordinator's own step report, so the job cannot run to its end
        // first, however late this test's thread runs.
        IActorRef? first = null;
        var observer = new ConcurrentObserver { AfterStep = s => { if (s.Step == 3) system.Stop(Volatile.Read(ref first)!); } };
        var coordinator = system.ActorOf(Coordinator.Props(options, data, Registering(), observer), "coordinator");
        var finished = coordinator.Ask<JobFinished>(new StartJob(), Patience);
        await JoinAsync(system, coordinator, "first", created: w => Volatile.Write(ref first, w));
        await WaitUntil(() => observer.Workers.Any(w => w.Name == "first" && w.Status == WorkerStatus.Lost));
        await JoinAsync(system, coordinator, "second");
        var summary = (await finished).Summary;
        Assert.Equal(reference.WeightsSha256, summary.WeightsSha256);
        Assert.Contains(observer.Notices, n => n.Contains("waiting up to 30 s"));
    }

    [Fact]
    public async Task TooFewWorkersEndTheJobAtTheWaitTimeoutWithAMessage()
    {
        var data = Spirals();
        var clock = new ManualTimeProvider();
        await using var system = ActorSystem.Create("timeout", clock);
        var observer = new ConcurrentObserver();
        var coordinator = system.ActorOf(Coordinator.Props(Options(data, epochs: 1), data, Registering(min: 2), observer), "coordinator");
        var finished = coordinator.Ask<JobFinished>(new StartJob(), Patience);
        await JoinAsync(system, coordinator, "only");
        await WaitUntil(() => observer.Notices.Count > 0);
        clock.Advance(TimeSpan.FromSeconds(31));
        var error = await Assert.ThrowsAsync<TrainingException>(() => finished);
        Assert.Contains("has 1 of the 2", error.Message);
    }

    [Fact]
    public async Task RegistrationsBeyondTheMaximumAndForAnotherJobAreRefused()
    {
        var data = Spirals();
        await using var system = ActorSystem.Create("refuse");
        var coordinator = system.ActorOf(Coordinator.Props(Options(data, epochs: 1), data, Registering(started: 1, max: 1)), "coordinator");
        var context = await coordinator.Ask<JobContext>(new RequestJobContext(), Patience);
        var extra = system.ActorOf(Worker.Props(context.JobId, 9, context.Options, data.Train, new CpuCompute(1), context.ParameterServer), "extra");
        var full = await coordinator.Ask<WorkerRefused>(new RegisterWorker(context.JobId, extra), Patience);
        Assert.Contains("maximum", full.Reason);
        var other = await coordinator.Ask<WorkerRefused>(new RegisterWorker("another-job", extra), Patience);
        Assert.Contains("another-job", other.Reason);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition never held");
            await Task.Delay(5);
        }
    }
}

/// <summary>When the coordinator issues a step ahead: once a block of the step before is computed, not while that step's weights go out.</summary>
public sealed class IssueAheadTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task TheNextStepIsIssuedOnceABlockOfTheCurrentStepIsComputed()
    {
        var data = Spirals();
        var options = Options(data, epochs: 3, batchNorm: false) with { MaxSteps = 12 };
        await using var system = ActorSystem.Create("issue-ahead");
        var settings = new ActorTrainerSettings { Workers = 0, MinWorkers = 1, MaxWorkers = 4, ThreadsPerWorker = 1, WorkerWaitTimeout = TimeSpan.FromSeconds(30), DataSource = "spirals" };
        var coordinator = system.ActorOf(Coordinator.Props(options, data, settings), "coordinator");
        var finished = coordinator.Ask<JobFinished>(new StartJob(), Patience);
        var context = await coordinator.Ask<JobContext>(new RequestJobContext(), Patience);
        var commands = new System.Collections.Concurrent.ConcurrentQueue<(long Step, long Reported)>();
        int length = ParallelNet.NN.Model.Create(options.Model, new CpuCompute(1), 1).Layout.TotalSize;
        var worker = system.ActorOf(Props.Create(() => new RecordingWorker(context, length, commands)), "recording");
        await coordinator.Ask<WorkerRegistered>(new RegisterWorker(context.JobId, worker), Patience);

        Assert.Equal(12, (await finished.WaitAsync(Patience)).Summary.Steps);
        Assert.Equal(Enumerable.Range(1, 12).Select(s => (long)s), commands.Select(c => c.Step));
        // Each command came after the worker had reported the step before it, never a whole step earlier.
        Assert.All(commands, c => Assert.Equal(c.Step - 1, c.Reported));
    }

    /// <summary>
    /// A worker that computes nothing: for each command it waits for the weights the command names, sends a zero gradient
    /// and reports the block, and records which step it had last reported when each command arrived.
    /// </summary>
    private sealed class RecordingWorker : ReceiveActor
    {
        private readonly List<(ComputeGradients Work, IActorRef ReplyTo)> _waiting = [];
        private readonly JobContext _context;
        private readonly int _length;
        private long _version = -1, _reported;

        public RecordingWorker(JobContext context, int length, System.Collections.Concurrent.ConcurrentQueue<(long, long)> commands)
        {
            _context = context;
            _length = length;
            Receive<WeightsPublished>(w =>
            {
                _version = Math.Max(_version, w.Version);
                Sender.Tell(new WeightsBufferReleased(w.JobId, w.Weights), Self);
                RunReady();
            });
            Receive<ComputeGradients>(work =>
            {
                commands.Enqueue((work.Step, _reported));
                _waiting.Add((work, Sender));
                RunReady();
            });
            ReceiveAny(_ => { });
        }

        protected override void PreStart() => _context.ParameterServer.Tell(new SubscribeToWeights(_context.JobId), Self);

        private void RunReady()
        {
            foreach (var (work, replyTo) in _waiting.Where(w => w.Work.WeightsVersion == _version).ToList())
            {
                _waiting.RemoveAll(w => w.Work == work);
                _context.ParameterServer.Tell(new GradientsComputed(work.JobId, work.Step, work.WeightsVersion, work.BatchCount, work.ShardCount, work.Block,
                    new float[_length], [], new double[work.Block.ShardCount]), Self);
                _reported = work.Step;
                replyTo.Tell(new BlockCompleted(work.JobId, work.Step, work.Block, work.BatchCount, 1e-3), Self);
            }
        }
    }
}

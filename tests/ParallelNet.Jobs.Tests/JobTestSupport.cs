using ParallelNet.Data;
using ParallelNet.Jobs.V1;
using ParallelNet.Rpc;
using ParallelNet.Training;
using ParallelNet.Training.Jobs;

namespace ParallelNet.Jobs.Tests;

/// <summary>Generous limits: the machine is shared and loaded; tests wait on events, never on sleeps.</summary>
internal static class Waits
{
    public static readonly TimeSpan Long = TimeSpan.FromSeconds(60);
}

/// <summary>A job server on a free loopback port with its own state folder; disposed with the test.</summary>
internal sealed class TestJobServer : IAsyncDisposable
{
    private readonly bool _ownsState;

    private TestJobServer(JobServer server, JobServerSettings settings, bool ownsState)
    {
        Server = server;
        Settings = settings;
        _ownsState = ownsState;
    }

    public JobServer Server { get; }
    public JobServerSettings Settings { get; }
    public string Address => $"127.0.0.1:{Server.Server.Port}";
    public JobManager Jobs => Server.Host.Jobs;

    public static async Task<TestJobServer> StartAsync(IJobRunner? runner = null, Action<JobServerSettings>? configure = null, string? stateDirectory = null)
    {
        var settings = new JobServerSettings { Port = 0, StateDirectory = stateDirectory ?? Directory.CreateTempSubdirectory("pn-jobs-").FullName };
        configure?.Invoke(settings);
        return new TestJobServer(await JobServer.StartAsync(settings, runner ?? new InProcessJobRunner(1)), settings, ownsState: stateDirectory is null);
    }

    public JobServiceClient Client(string? token = null) => new(Address, token);

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        if (_ownsState) Directory.Delete(Settings.StateDirectory, recursive: true);
    }
}

/// <summary>A runner whose jobs block until released, so tests control exactly when jobs run and end.</summary>
internal sealed class GatedJobRunner : IJobRunner
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, TaskCompletionSource> _gates = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _started = new();
    private readonly SemaphoreSlim _startedSignal = new(0);

    public IReadOnlyCollection<string> Started => _started;

    public async Task<TrainingSummary> RunAsync(JobRun run, CancellationToken cancellation)
    {
        var gate = _gates.GetOrAdd(run.JobId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        _started.Enqueue(run.JobId);
        _startedSignal.Release();
        var cancelled = false;
        try
        {
            await gate.Task.WaitAsync(cancellation);
        }
        catch (OperationCanceledException)
        {
            cancelled = true;
        }
        return new TrainingSummary(0.5, 1.0, 1.0, 1, 1, 100, 10, "gated-" + run.JobId, 0.1, cancelled);
    }

    public void Release(string jobId) => _gates.GetOrAdd(jobId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    public async Task<string> NextStartedAsync(int count)
    {
        while (_started.Count < count) await _startedSignal.WaitAsync(Waits.Long);
        return _started.ElementAt(count - 1);
    }
}

internal static class JobTestExtensions
{
    /// <summary>A tiny job: the spirals set, 2 epochs of 10 steps.</summary>
    public static TrainingJobSpec TinySpirals(ulong seed = 3) => new() { Data = "spirals", Model = "mlp", Epochs = 2, BatchSize = 32, Seed = seed, Workers = 2 };

    /// <summary>What the plain in-process trainer gives for the spec: the reference for the job service's result.</summary>
    public static string ExpectedWeights(TrainingJobSpec spec)
    {
        var data = DatasetCatalog.Load(spec.Data, null);
        return new Training.Actors.ActorTrainer(spec.ToTrainingOptions(data), data, new Training.Actors.ActorTrainerSettings { Workers = 1, ThreadsPerWorker = 1 }).Run().WeightsSha256;
    }

    /// <summary>Watches a job to its end and returns every event.</summary>
    public static async Task<List<JobEvent>> WatchToEndAsync(this JobServiceClient client, string id)
    {
        using var timeout = new CancellationTokenSource(Waits.Long * 3);
        var events = new List<JobEvent>();
        await foreach (var e in client.WatchAsync(id, timeout.Token)) events.Add(e);
        return events;
    }

    public static async Task<StatusCode> StatusOf(Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<RpcException>(call);
        return error.StatusCode;
    }
}

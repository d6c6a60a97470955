using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ParallelNet.Data;
using ParallelNet.Jobs.Internal;
using ParallelNet.Jobs.V1;
using ParallelNet.NN;
using ParallelNet.Rpc;
using ParallelNet.Training;
using ParallelNet.Training.Checkpoints;
using ParallelNet.Training.Jobs;

namespace ParallelNet.Jobs;

/// <summary>
/// Owns the jobs: stores them (SQLite), runs queued ones in submission order on an <see cref="IJobRunner"/>
/// (at most <see cref="JobServerSettings.MaxConcurrentJobs"/> at once), checkpoints every job, and resumes jobs
/// that were running when the server stopped or died from their last checkpoint. Errors a caller can act on
/// are thrown as <see cref="RpcException"/> with the gRPC status the job API answers.
/// </summary>
public sealed class JobManager : IAsyncDisposable
{
    private readonly JobServerSettings _settings;
    private readonly IJobRunner _runner;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly JobStore _store;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ActiveJob> _active = new(StringComparer.Ordinal);
    private readonly List<ActiveJob> _queue = [];
    private readonly List<Task> _running = [];
    private bool _started;
    private bool _stopping;

    public JobManager(JobServerSettings settings, IJobRunner runner, TimeProvider? time = null, ILoggerFactory? loggers = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(runner);
        _settings = settings;
        _runner = runner;
        _time = time ?? TimeProvider.System;
        _log = (loggers ?? NullLoggerFactory.Instance).CreateLogger<JobManager>();
        Directory.CreateDirectory(settings.ResolvedCheckpointDirectory);
        _store = new JobStore(settings.ResolvedDatabasePath);
    }

    /// <summary>Reloads queued jobs, re-queues the ones that were running (first, to resume from their checkpoints) and starts running them.</summary>
    public void Start()
    {
        lock (_gate)
        {
            if (_started) throw new InvalidOperationException("The job manager is already started.");
            _started = true;
            foreach (var (_, job) in _store.InStates([JobState.Running, JobState.Queued]))
            {
                if (job.State == JobState.Running)
                {
                    job.State = JobState.Queued;
                    job.Resumes++;
                    _store.Update(job);
                    _log.LogInformation("Job {Id} was running when the server stopped; it resumes from its last checkpoint.", job.Id);
                }
                var active = new ActiveJob(job);
                _active[job.Id] = active;
                _queue.Add(active);
            }
            Pump();
        }
    }

    /// <summary>Validates and queues a job. INVALID_ARGUMENT for a bad spec, RESOURCE_EXHAUSTED when the queue is full.</summary>
    public Job Submit(TrainingJobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        try
        {
            spec.Validate();
        }
        catch (JobSpecException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message));
        }
        lock (_gate)
        {
            if (_stopping) throw new RpcException(new Status(StatusCode.Unavailable, "The job server is stopping; submit again once it is back."));
            if (_queue.Count >= _settings.MaxQueuedJobs)
                throw new RpcException(new Status(StatusCode.ResourceExhausted, $"The job queue is full ({_settings.MaxQueuedJobs} jobs waiting); try again later."));
            var job = new Job
            {
                Id = "job-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)),
                Spec = spec.ToProto(),
                State = JobState.Queued,
                SubmittedUnixMs = _time.GetUtcNow().ToUnixTimeMilliseconds(),
            };
            _store.Insert(job);
            var active = new ActiveJob(job);
            _active[job.Id] = active;
            _queue.Add(active);
            Pump();
            return Snapshot(active);
        }
    }

    /// <summary>The job as it stands; NOT_FOUND for an unknown id.</summary>
    public Job Get(string id)
    {
        CheckId(id);
        lock (_gate)
            if (_active.TryGetValue(id, out var active)) return Snapshot(active);
        return _store.Get(id) ?? throw NotFound(id);
    }

    /// <summary>Newest first, optionally only in <paramref name="states"/>; page tokens are opaque strings.</summary>
    public (IReadOnlyList<Job> Jobs, string NextPageToken) List(IReadOnlyCollection<JobState> states, int pageSize, string? pageToken)
    {
        if (pageSize < 0 || pageSize > 500) throw new RpcException(new Status(StatusCode.InvalidArgument, $"page_size must be between 0 (default 50) and 500, got {pageSize}."));
        if (pageSize == 0) pageSize = 50;
        long? before = null;
        if (!string.IsNullOrEmpty(pageToken))
            before = long.TryParse(pageToken, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seq) && seq > 0 ? seq
                : throw new RpcException(new Status(StatusCode.InvalidArgument, "page_token is not one this server handed out; pass next_page_token of the previous page."));
        var rows = _store.InStates(states, newestFirst: true, before, pageSize + 1);
        List<Job> page;
        lock (_gate) page = rows.Take(pageSize).Select(r => _active.TryGetValue(r.Job.Id, out var active) ? Snapshot(active) : r.Job).ToList();
        var next = rows.Count > pageSize ? rows[pageSize - 1].Seq.ToString(System.Globalization.CultureInfo.InvariantCulture) : "";
        return (page, next);
    }

    /// <summary>Cancels a queued job at once and a running one after its step in flight; FAILED_PRECONDITION once it has ended.</summary>
    public Job Cancel(string id)
    {
        CheckId(id);
        lock (_gate)
        {
            if (!_active.TryGetValue(id, out var active))
            {
                var stored = _store.Get(id) ?? throw NotFound(id);
                throw new RpcException(new Status(StatusCode.FailedPrecondition, $"Job {id} has already ended ({StateName(stored.State)})."));
            }
            if (active.Job.State == JobState.Queued)
            {
                _queue.Remove(active);
                Finish(active, JobState.Cancelled, error: "", result: null);
            }
            else
            {
                active.CancelRequested = true;
                active.Cancellation.Cancel();
            }
            return Snapshot(active);
        }
    }

    /// <summary>
    /// Subscribes to a job's events: its current state first (and its result if it has ended), then every change until it ends.
    /// Dispose the watch to stop.
    /// </summary>
    public JobWatch Watch(string id)
    {
        CheckId(id);
        lock (_gate)
        {
            if (_active.TryGetValue(id, out var active))
                return new JobWatch(active.Events, active.Events.Subscribe([StateEvent(Snapshot(active))]));
        }
        var stored = _store.Get(id) ?? throw NotFound(id);
        var ended = new JobEventHub();
        ended.Complete([]);
        var first = new List<JobEvent> { StateEvent(stored) };
        if (stored.Result is not null) first.Add(new JobEvent { JobId = id, Result = stored.Result });
        return new JobWatch(ended, ended.Subscribe(first));
    }

    /// <summary>The path of the job's latest checkpoint; NOT_FOUND when the job is unknown or has none yet.</summary>
    public string CheckpointPath(string id)
    {
        Get(id);
        var path = CheckpointFile(id);
        return File.Exists(path) ? path : throw new RpcException(new Status(StatusCode.NotFound, $"Job {id} has no checkpoint yet (one is written every checkpoint_every steps, at each epoch's end and at the end)."));
    }

    /// <summary>
    /// Stops running jobs after their step in flight (each writes its checkpoint) and leaves them marked running,
    /// so the next <see cref="Start"/> resumes them; queued jobs stay queued.
    /// </summary>
    public async Task StopAsync()
    {
        Task[] running;
        lock (_gate)
        {
            if (_stopping) return;
            _stopping = true;
            foreach (var active in _active.Values) active.Cancellation.Cancel();
            running = [.. _running];
        }
        await Task.WhenAll(running).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _store.Dispose();
    }

    private void Pump()
    {
        while (!_stopping && _started && _queue.Count > 0 && _active.Values.Count(a => a.Job.State == JobState.Running) < _settings.MaxConcurrentJobs)
        {
            var next = _queue[0];
            _queue.RemoveAt(0);
            next.Job.State = JobState.Running;
            next.Job.StartedUnixMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
            _store.Update(next.Job);
            next.Events.Publish(StateEvent(Snapshot(next)));
            Task task = null!;
            task = Task.Run(async () =>
            {
                try
                {
                    await RunAsync(next).ConfigureAwait(false);
                }
                finally
                {
                    lock (_gate)
                    {
                        _running.Remove(task);
                        Pump();
                    }
                }
            });
            _running.Add(task);
        }
    }

    private async Task RunAsync(ActiveJob active)
    {
        var id = active.Job.Id;
        TrainingSummary summary;
        try
        {
            var spec = TrainingJobSpec.FromProto(active.Job.Spec);
            var data = await Task.Run(() => DatasetCatalog.Load(spec.Data, spec.DataDir ?? _settings.DataDirectory), active.Cancellation.Token).ConfigureAwait(false);
            var options = spec.ToTrainingOptions(data);
            var checkpointFile = CheckpointFile(id);
            var resumeFrom = File.Exists(checkpointFile) ? TrainingCheckpoint.Load(checkpointFile) : null;
            long stepsPerEpoch = (data.Train.Count + options.BatchSize - 1) / options.BatchSize;
            long total = options.MaxSteps > 0 ? Math.Min(options.MaxSteps, stepsPerEpoch * options.Epochs) : stepsPerEpoch * options.Epochs;
            lock (_gate) active.Job.TotalSteps = total;
            var observer = new JobProgressObserver(id, active.Events, total,
                step => { lock (_gate) active.Job.Step = step; },
                step => { lock (_gate) _store.Update(Snapshot(active)); });
            var run = new JobRun(id, options, spec.Data, data, spec.Workers, observer, new CheckpointPolicy(checkpointFile, spec.CheckpointEvery), resumeFrom);
            active.Cancellation.Token.ThrowIfCancellationRequested();
            summary = await _runner.RunAsync(run, active.Cancellation.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (active.Cancellation.IsCancellationRequested)
        {
            summary = null!;
        }
        catch (Exception e) when (e is JobSpecException or DataException or ModelSpecException or CheckpointException or TrainingException or ArgumentException or IOException)
        {
            lock (_gate) Finish(active, JobState.Failed, e.Message, result: null);
            return;
        }
        catch (Exception e)
        {
            _log.LogError(e, "Job {Id} failed unexpectedly.", id);
            lock (_gate) Finish(active, JobState.Failed, $"internal error ({e.GetType().Name}); see the server log", result: null);
            return;
        }
        lock (_gate)
        {
            if (active.CancelRequested)
                Finish(active, JobState.Cancelled, "", summary is null ? null : JobProgressObserver.ToResult(summary));
            else if (_stopping)
            {
                // Left "running" in the store on purpose: the next start resumes it from the checkpoint just written.
                _store.Update(Snapshot(active));
                _active.Remove(id);
                active.Events.Abandon();
            }
            else
                Finish(active, summary.Cancelled ? JobState.Cancelled : JobState.Succeeded, "", JobProgressObserver.ToResult(summary));
        }
    }

    private void Finish(ActiveJob active, JobState state, string error, JobResult? result)
    {
        var job = active.Job;
        job.State = state;
        job.Error = error;
        job.FinishedUnixMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
        if (result is not null)
        {
            job.Result = result;
            job.Step = result.Steps;
        }
        _store.Update(job);
        _active.Remove(job.Id);
        var last = new List<JobEvent> { StateEvent(job.Clone()) };
        if (result is not null) last.Add(new JobEvent { JobId = job.Id, Result = result });
        active.Events.Complete(last);
        active.Cancellation.Dispose();
    }

    private Job Snapshot(ActiveJob active)
    {
        var job = active.Job.Clone();
        job.QueuePosition = _queue.IndexOf(active) + 1;
        return job;
    }

    private string CheckpointFile(string id) => Path.Combine(_settings.ResolvedCheckpointDirectory, id + ".safetensors");

    private static JobEvent StateEvent(Job job) => new() { JobId = job.Id, State = job };

    /// <summary>"queued", "running", "succeeded", "failed", "cancelled": the names the CLI prints and accepts.</summary>
    public static string StateName(JobState state) => state.ToString().ToLowerInvariant();

    private static void CheckId(string id)
    {
        if (string.IsNullOrWhiteSpace(id)) throw new RpcException(new Status(StatusCode.InvalidArgument, "id is empty: give a job id such as job-0123456789ab."));
        if (id.Length > 64 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            throw new RpcException(new Status(StatusCode.InvalidArgument, "id is not a job id (letters, digits, '-' and '_', at most 64 characters)."));
    }

    private static RpcException NotFound(string id) => new(new Status(StatusCode.NotFound, $"No job with id {id}."));

    private sealed class ActiveJob(Job job)
    {
        public Job Job { get; } = job;
        public JobEventHub Events { get; } = new();
        public CancellationTokenSource Cancellation { get; } = new();
        public bool CancelRequested { get; set; }
    }
}

/// <summary>A subscription to one job's events (<see cref="JobManager.Watch"/>); the reader completes when the job ends.</summary>
public sealed class JobWatch : IDisposable
{
    private readonly JobEventHub _hub;

    internal JobWatch(JobEventHub hub, ChannelReader<JobEvent> events)
    {
        _hub = hub;
        Events = events;
    }

    public ChannelReader<JobEvent> Events { get; }

    public void Dispose() => _hub.Unsubscribe(Events);
}

using System.CommandLine;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using ParallelNet.Cli.Output;
using ParallelNet.Cluster;
using ParallelNet.Cluster.Training;
using ParallelNet.Jobs;
using ParallelNet.Tensors;
using ParallelNet.Tensors.OpenCL;
using ParallelNet.Training;
using ParallelNet.Training.Jobs;

namespace ParallelNet.Cli.Commands.Node;

/// <summary>
/// `parallelnet node`: one cluster member. A coordinator serves the JobService on its cluster port and
/// runs submitted jobs on the workers that register (or runs the one job given by training flags, then
/// exits); a worker finds the coordinator through the seeds and serves its jobs until SIGINT/SIGTERM.
/// </summary>
internal static class NodeCommand
{
    public static Command Create()
    {
        var training = new TrainingFlags();
        var config = new Option<FileInfo?>("--config") { Description = "YAML node settings (see cluster-config/); flags and PARALLELNET_* variables override it." };
        var nodeOptions = NodeSettings.Keys.Where(k => k != "data-dir")
            .ToDictionary(k => k, k => new Option<string?>("--" + k) { Description = $"Node setting '{k}' (env {NodeSettings.EnvironmentName(k)})." });
        nodeOptions["role"].Description = "coordinator or worker.";
        nodeOptions["listen"].Description = "HOST:PORT to bind (default 0.0.0.0:7070).";
        nodeOptions["seeds"].Description = "HOST:PORT,... of nodes to join through (the coordinator's address).";
        nodeOptions["shared-memory"].Description = "auto (default): large messages to nodes on this host go through a shared-memory ring in /dev/shm; off: always the TCP stream.";
        nodeOptions["shared-memory-mib"].Description = "MiB of each shared-memory ring this node offers a same-host peer (default 64).";
        nodeOptions["yield-between-layers"].Description = "on (default): a worker's compute thread offers its core to other threads between layers, so a thread woken on its core (the node's network, another worker on this host) need not wait for a time slice; off: it keeps the core.";
        var checkpoint = new Option<FileInfo?>("--checkpoint") { Description = "Coordinator with a job in flags: checkpoint file; if it exists the job resumes from it (a restarted coordinator)." };
        var checkpointEvery = new Option<long>("--checkpoint-every") { Description = "Also checkpoint every K steps (needs --checkpoint)." };
        var jobId = new Option<string>("--job-id") { Description = "Id of the job given by flags.", DefaultValueFactory = _ => "node-job" };
        var json = new Option<bool>("--json") { Description = "Print the job's events and summary as JSON lines." };
        var command = new Command("node", "Run one cluster node: --role coordinator (serves the JobService) or worker.") { config, checkpoint, checkpointEvery, jobId, json };
        foreach (var option in nodeOptions.Values) command.Options.Add(option);
        foreach (var option in training.All) command.Options.Add(option);

        command.SetAction(async (parse, cancellation) =>
        {
            var given = nodeOptions.Where(o => parse.GetValue(o.Value) is not null).ToDictionary(o => o.Key, o => parse.GetValue(o.Value)!);
            if (parse.GetValue(training.DataDir) is { } dir) given["data-dir"] = dir.FullName;
            var settings = NodeSettings.Resolve(given, Environment.GetEnvironmentVariables(), parse.GetValue(config)?.FullName);
            bool hasJob = parse.GetValue(training.Model) is not null || parse.GetValue(training.ModelFile) is not null;
            if (hasJob && !settings.IsCoordinator) throw new UsageException("training flags (--model, --model-file) describe a job for a coordinator; a worker takes its jobs from the coordinator.");

            var stop = new CancellationTokenSource();
            void OnSignal(PosixSignalContext context)
            {
                context.Cancel = true;
                stop.Cancel();
            }
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
            await using var onCancel = cancellation.Register(stop.Cancel);

            using var loggers = LoggerFactory.Create(b => b
                .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; })
                .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace) // stdout stays for the job's JSON lines
                .AddFilter("Microsoft", LogLevel.Warning));
            var log = loggers.CreateLogger("parallelnet.node");
            var nodeOptionsResolved = ClusterOptions(settings, loggers);
            return settings.IsCoordinator
                ? await RunCoordinatorAsync(parse, settings, nodeOptionsResolved, loggers, log, hasJob ? new FlagJob(training, checkpoint, checkpointEvery, jobId, json) : null, stop.Token)
                : await RunWorkerAsync(settings, nodeOptionsResolved, loggers, log, stop.Token);
        });
        return command;
    }

    private static ClusterNodeOptions ClusterOptions(NodeSettings settings, ILoggerFactory loggers)
    {
        var options = new ClusterNodeOptions
        {
            Host = settings.ListenHost,
            Port = settings.ListenPort,
            PublicHost = settings.Advertise,
            ClusterToken = settings.ClusterToken,
            HeartbeatInterval = settings.Heartbeat,
            UnreachableAfter = settings.UnreachableAfter,
            RemovedAfter = settings.RemovedAfter,
            LoggerFactory = loggers,
        };
        if (!settings.SharedMemory) options.SharedMemoryDirectory = null;
        options.SharedMemoryRingBytes = settings.SharedMemoryMib * 1024L * 1024;
        options.Roles.Add(settings.Role);
        foreach (var seed in settings.Seeds) options.Seeds.Add(seed);
        options.Serializers.AddTrainingMessages();
        return options;
    }

    private static async Task<int> RunWorkerAsync(NodeSettings settings, ClusterNodeOptions options, ILoggerFactory loggers, ILogger log, CancellationToken stop)
    {
        if (settings.Seeds.Count == 0) throw new UsageException("a worker needs --seeds HOST:PORT (the coordinator's address) to find its cluster.");
        using var compute = new SharedCompute(settings.Device, settings.Threads, message => log.LogWarning("{Notice}", message));
        _ = compute.Get(); // a bad --device fails now, not at the first job
        Bench.HopTimeline.StartWorkerFromEnvironment();
        await using var node = await ClusterNode.StartAsync(options, stop);
        node.System.ActorOf(WorkerHost.Props(node, new WorkerHostSettings { DataDirectory = settings.DataDir, ComputeFactory = compute.Get, YieldBetweenLayers = settings.YieldBetweenLayers }, loggers), "worker-host");
        log.LogInformation("Worker node {Address} serving jobs of the coordinator at {Seeds} until SIGINT/SIGTERM.", node.SelfAddress, string.Join(',', settings.Seeds));
        await Task.Delay(Timeout.Infinite, stop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        log.LogInformation("Worker node stopping.");
        return ExitCodes.Success;
    }

    private static async Task<int> RunCoordinatorAsync(ParseResult parse, NodeSettings settings, ClusterNodeOptions options, ILoggerFactory loggers, ILogger log, FlagJob? job, CancellationToken stop)
    {
        ClusterNode? node = null;
        var runner = new ClusterJobRunner(() => node ?? throw new InvalidOperationException("The cluster node has not started."), new ClusterJobSettings
        {
            MinWorkers = settings.MinWorkers,
            MaxWorkers = settings.MaxWorkers,
            WorkerWaitTimeout = settings.WorkerWait,
        });
        JobServiceHost? jobs = null;
        if (job is null)
        {
            var server = new JobServerSettings
            {
                Host = settings.ListenHost,
                StateDirectory = Path.GetFullPath(Path.Combine(settings.CheckpointDir, "state")),
                CheckpointDirectory = Path.GetFullPath(settings.CheckpointDir),
                DataDirectory = settings.DataDir,
            };
            if (settings.JobToken is { } token) server.Tokens.Add(new JobToken(token, JobTokenRole.Admin));
            server.Validate(settings.ListenHost);
            jobs = JobServiceHost.Create(server, runner, loggers: loggers);
            options.AdditionalServices.Add(jobs.Service);
        }
        try
        {
            node = await ClusterNode.StartAsync(options, stop);
            if (job is not null) return await job.RunAsync(parse, settings, runner, log, stop);
            jobs!.Start();
            log.LogInformation("Coordinator node {Address} serving parallelnet.v1.JobService on port {Port} until SIGINT/SIGTERM.", node.SelfAddress, node.Port);
            await Task.Delay(Timeout.Infinite, stop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            log.LogInformation("Coordinator stopping: running jobs stop after their step in flight and resume on the next start.");
            await jobs.StopAsync();
            return ExitCodes.Success;
        }
        finally
        {
            if (jobs is not null) await jobs.DisposeAsync();
            if (node is not null) await node.DisposeAsync();
        }
    }

    /// <summary>A job given to a coordinator by training flags: run it on the cluster, print the summary, exit.</summary>
    private sealed record FlagJob(TrainingFlags Training, Option<FileInfo?> Checkpoint, Option<long> CheckpointEvery, Option<string> JobId, Option<bool> Json)
    {
        public async Task<int> RunAsync(ParseResult parse, NodeSettings settings, IJobRunner runner, ILogger log, CancellationToken stop)
        {
            string source = parse.GetValue(Training.Data)!;
            var data = DatasetCatalogLoad(source, settings.DataDir);
            var options = Training.BuildOptions(parse, data);
            TrainingCheckpoint? resume = null;
            var file = parse.GetValue(Checkpoint);
            long every = parse.GetValue(CheckpointEvery);
            if (every < 0 || (every > 0 && file is null)) throw new UsageException("--checkpoint-every needs --checkpoint FILE and a non-negative K.");
            if (file is { Exists: true })
            {
                resume = TrainingCheckpoint.Load(file.FullName);
                log.LogInformation("Resuming job from {File} at step {Step}.", file.FullName, resume.Progress.Step);
                options = resume.Options with { MaxSteps = options.MaxSteps, Epochs = options.Epochs };
            }
            var output = parse.InvocationConfiguration.Output;
            ITrainingObserver observer = new LoggingObserver(parse.GetValue(Json) ? new JsonLinesObserver(output) : null, log);
            var run = new JobRun(parse.GetValue(JobId)!, options, source, data, 0, observer, file is null ? null : new CheckpointPolicy(file.FullName, every), resume);
            var summary = await runner.RunAsync(run, stop);
            JsonLinesObserver.WriteSummary(output, summary);
            output.Flush();
            return summary.Cancelled ? ExitCodes.Interrupted : ExitCodes.Success;
        }

        private static Data.DataSplit DatasetCatalogLoad(string source, string? dataDir) => Data.DatasetCatalog.Load(source, dataDir);
    }

    /// <summary>Logs joins, losses, epochs and notices; forwards everything to the JSON lines when asked for.</summary>
    private sealed class LoggingObserver(ITrainingObserver? inner, ILogger log) : ITrainingObserver
    {
        public void OnStep(StepCompleted step)
        {
            if (step.Step % 10 == 0) log.LogInformation("Step {Step} done: loss {Loss:0.0000}, {Rate:0} samples/s.", step.Step, step.Loss, step.SamplesPerSecond);
            inner?.OnStep(step);
        }
        public void OnCheckpoint(CheckpointWritten checkpoint) => inner?.OnCheckpoint(checkpoint);
        public void OnEpoch(EpochCompleted epoch)
        {
            log.LogInformation("Epoch {Epoch} done at step {Step}: train loss {Loss:0.0000}, test accuracy {Accuracy:P2}.", epoch.Epoch + 1, epoch.Step, epoch.TrainLoss, epoch.TestAccuracy);
            inner?.OnEpoch(epoch);
        }
        public void OnWorker(WorkerActivity activity)
        {
            if (activity.Status != WorkerStatus.Working)
                log.LogInformation("Worker {Name} {Status} at step {Step}{Reason}.", activity.Name, activity.Status, activity.Step, activity.Reason is null ? "" : $": {activity.Reason}");
            inner?.OnWorker(activity);
        }
        public void OnNotice(string message)
        {
            log.LogWarning("{Notice}", message);
            inner?.OnNotice(message);
        }
    }

    /// <summary>One compute backend for every replica this worker node builds, opened on first use.</summary>
    private sealed class SharedCompute(string device, int threads, Action<string> notice) : IDisposable
    {
        private ICompute? _compute;
        public ICompute Get() => _compute ??= ComputeDevices.Create(device, threads, notice);
        public void Dispose() => (_compute as IDisposable)?.Dispose();
    }
}

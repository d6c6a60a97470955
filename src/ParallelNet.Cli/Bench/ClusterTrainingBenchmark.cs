using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using ParallelNet.Actors;
using ParallelNet.Cluster;
using ParallelNet.Cluster.Training;
using ParallelNet.Data;
using ParallelNet.Rpc;
using ParallelNet.Training;
using ParallelNet.Training.Actors;
using ParallelNet.Training.Jobs;

namespace ParallelNet.Cli.Bench;

internal sealed record ClusterTrainingBenchmarkOptions(int Workers, int WarmupSteps, int Steps, string? DataDirectory, string Python,
    IReadOnlyList<GrpcServerTransport> ServerTransports, IReadOnlyList<TensorPath> TensorPaths, bool MeasureDdp = true, int Rounds = 1);

/// <summary>How the tensors of a cluster on one host travel: through the nodes' shared-memory rings, or on the TCP stream as between hosts.</summary>
internal enum TensorPath
{
    SharedMemory,
    Stream,
}

/// <summary>
/// `parallelnet bench cluster`: mlp on MNIST at global batch 128, samples/s of a coordinator (this process)
/// with worker processes on loopback against single-process training, with PyTorch DDP (gloo) at 2 and 1
/// ranks beside it. Also the payload bytes each step moves (both
/// directions) and where a cluster step's time goes.
/// </summary>
internal static class ClusterTrainingBenchmark
{
    private const int BatchSize = 128;

    public static int Run(ClusterTrainingBenchmarkOptions o, TextWriter output)
    {
        if (o.Workers < 1 || o.WarmupSteps < 1 || o.Steps < 1 || o.Rounds < 1) throw new UsageException("--workers, --warmup-steps, --steps and --rounds must be positive.");
        if (o.ServerTransports.Count == 0) throw new UsageException("--server-transport needs at least one of Http2, Kestrel.");
        if (o.TensorPaths.Count == 0) throw new UsageException("--tensor-path needs at least one of SharedMemory, Stream.");
        string mnist = MnistFetcher.ResolveDirectory(o.DataDirectory);
        var data = DatasetCatalog.Load("mnist", mnist);
        var options = new Commands.TrainingFlags().BuildOptions(CliApplication.BuildRoot().Parse("train --model mlp --data mnist"), data)
            with { MaxSteps = o.WarmupSteps + o.Steps, BatchSize = BatchSize, Epochs = TrainBenchmark.EpochsCovering(o.WarmupSteps + o.Steps, BatchSize, data.Train.Count) };
        output.WriteLine($"mlp on MNIST, global batch {BatchSize}, S = {options.VirtualShards}, {o.WarmupSteps} warm-up + {o.Steps} measured steps; load {LoadAverage.Read()}");

        // Rounds take turns (one process, then each cluster variant), and each keeps its fastest round: on a shared host
        // another tenant's load moves any single measurement by tens of percent.
        var variants = o.ServerTransports.SelectMany(t => o.TensorPaths.Select(p => (Transport: t, Path: p))).ToList();
        StepWindow? single = null;
        var bestRounds = variants.Select(v => (Name: VariantName(v.Transport, v.Path, o), Result: (ClusterResult?)null)).ToList();
        var rounds = new List<(double Single, double[] Clusters)>();
        double Rate(double seconds) => o.Steps * BatchSize / seconds;
        for (int round = 0; round < o.Rounds; round++)
        {
            var window = new StepWindow(o.WarmupSteps, o.WarmupSteps + o.Steps, processes: [Environment.ProcessId]);
            new ActorTrainer(options, data, new ActorTrainerSettings { Workers = 1 }, window).Run();
            window.RequireComplete("the single process");
            if (single is null || window.Seconds < single.Seconds) single = window;
            var clusterRates = new double[variants.Count];
            for (int v = 0; v < variants.Count; v++)
            {
                ClusterResult result = MeasureClusterAsync(options, data, mnist, o, variants[v].Transport, variants[v].Path).GetAwaiter().GetResult();
                if (bestRounds[v].Result is not { } best || result.Window.Seconds < best.Window.Seconds) bestRounds[v] = (bestRounds[v].Name, result);
                clusterRates[v] = Rate(result.Window.Seconds);
            }
            rounds.Add((Rate(window.Seconds), clusterRates));
        }
        var clusters = bestRounds.Select(c => (c.Name, Result: c.Result!)).ToList();
        double singleRate = Rate(single!.Seconds);
        double ddp2 = o.MeasureDdp ? Ddp(o, mnist, 2) : 0, ddp1 = o.MeasureDdp ? Ddp(o, mnist, 1) : 0;

        output.WriteLine($"{(o.Rounds > 1 ? $"best of {o.Rounds} rounds taking turns" : ""),-44}{"samples/s",12}{"vs single",11}");
        output.WriteLine($"{"ParallelNet single process (1 worker)",-44}{singleRate,12:0}{1.0,11:0.00}x");
        output.WriteLine($"ParallelNet coordinator + {o.Workers} worker processes:");
        foreach (var (name, cluster) in clusters)
        {
            double clusterRate = Rate(cluster.Window.Seconds);
            output.WriteLine($"{"  " + name,-44}{clusterRate,12:0}{clusterRate / singleRate,11:0.00}x");
        }
        if (o.Rounds > 1) WriteRounds(output, bestRounds.Select(c => c.Name).ToList(), rounds);
        output.WriteLine(ddp1 > 0 && ddp2 > 0
            ? $"{"PyTorch 1 rank",-44}{ddp1,12:0}{1.0,11:0.00}x\n{"PyTorch DDP gloo, 2 ranks",-44}{ddp2,12:0}{ddp2 / ddp1,11:0.00}x"
            : o.MeasureDdp ? "PyTorch DDP: not measured (needs /usr/bin/python3 with torch; see the message above)" : "PyTorch DDP: not measured (--no-ddp)");

        long parameters = NN.Model.Create(options.Model, new Tensors.Cpu.CpuCompute(1), 1).Layout.TotalSize;
        double decode = DecodeSeconds(parameters);
        foreach (var (name, cluster) in clusters)
        {
            output.WriteLine($"{name}:");
            WriteStepBreakdown(output, o, cluster, parameters, decode);
        }
        output.WriteLine(FloorLine(single, singleRate, o, parameters * 4, clusters.Min(c => c.Result.TracedBlockSeconds)));
        if (clusters.Count > 1 && o.TensorPaths.Contains(TensorPath.SharedMemory))
            output.WriteLine("shared memory: processes on one host exchange large tensors through /dev/shm rings (the stream carries headers only); the TCP-stream row is what nodes on separate hosts or containers pay per step on this loopback.");
        return ExitCodes.Success;
    }

    private static void WriteStepBreakdown(TextWriter output, ClusterTrainingBenchmarkOptions o, ClusterResult cluster, long parameters, double decode)
    {
        double stepSeconds = cluster.Window.Seconds / o.Steps;
        output.WriteLine($"training-message payload per step (coordinator sent + received): {cluster.BytesPerStep / 1e6:0.00} MB " +
            $"(weights and gradients are {parameters * 4 / 1e6:0.00} MB each; {o.Workers} workers x 2 directions = {o.Workers * 2 * parameters * 4 / 1e6:0.00} MB of tensors)");
        output.WriteLine($"a cluster step: {stepSeconds * 1e3:0.0} ms; mean worker block {cluster.ComputeSecondsPerStep * 1e3:0.0} ms as the worker reports it (compute, then writing its gradients)" +
            (cluster.TracedBlockSeconds > 0 ? $", {cluster.TracedBlockSeconds * 1e3:0.0} ms of it compute; " : "; ") +
            $"decoding one tensor {decode * 1e3:0.00} ms (encoding wraps without copying)");
        var timeline = cluster.Window.Timeline;
        if (timeline.Steps > 0)
            output.WriteLine($"  measured at the coordinator, per step: compute of the block the step waited for {timeline.ComputeSeconds / timeline.Steps * 1e3:0.0} ms" +
                $" + weights out and gradients back (transport, copies, decoding) {timeline.TransitSeconds / timeline.Steps * 1e3:0.0} ms" +
                $" + parameter server (combine, optimizer, publish) {timeline.ServerSeconds / timeline.Steps * 1e3:0.0} ms");
        if (cluster.Hops.Count > 0)
        {
            output.WriteLine("  the hops of a step (time after the parameter server published the weights it uses, at the first and the last worker; PARALLELNET_HOP_TRACE marks):");
            foreach (string hop in cluster.Hops) output.WriteLine(hop);
        }
        output.WriteLine(CpuLine(cluster.Window.CpuSeconds, o.Steps, stepSeconds));
    }

    /// <summary>CPU per step of each process against what the machine's cores offer in a step: on few cores, every CPU-ms outside compute slows the step.</summary>
    private static string CpuLine(double?[] cpuSeconds, int steps, double stepSeconds)
    {
        if (cpuSeconds.Length == 0 || cpuSeconds.Any(c => c is null)) return "CPU per step: not measured (needs /proc)";
        var parts = cpuSeconds.Select((c, i) => $"{(i == 0 ? "coordinator" : $"worker {i}")} {c!.Value / steps * 1e3:0.0}");
        double total = cpuSeconds.Sum(c => c!.Value) / steps;
        return $"CPU per step (ms, user + system, all threads): {string.Join(", ", parts)}; total {total * 1e3:0.0} of the {Environment.ProcessorCount} x {stepSeconds * 1e3:0.0} the cores offer";
    }

    /// <summary>
    /// The best a cluster step could do here if it cost nothing but single-process compute plus the kernel's copies of
    /// its tensors through loopback TCP, both spread perfectly over the cores.
    /// The second bound is the chain a step cannot escape without overlapping transport and compute: the workers' block,
    /// then the tensors through plain sockets (weights out before it, gradients back after it).
    /// </summary>
    private static string FloorLine(StepWindow single, double singleRate, ClusterTrainingBenchmarkOptions o, long tensorBytes, double blockSeconds)
    {
        if (single.CpuSeconds is not [double singleCpu]) return "loopback TCP floor: not measured (needs /proc)";
        var (floorCpu, floorWall) = LoopbackTcpFloor.MeasureStep(o.Workers, tensorBytes);
        double computeCpu = singleCpu / o.Steps, singleStep = BatchSize / singleRate;
        double boundStep = Math.Max(singleStep, (computeCpu + floorCpu) / Environment.ProcessorCount);
        double boundRate = BatchSize / boundStep;
        return $"loopback TCP floor: the step's {o.Workers * 2 * tensorBytes / 1e6:0.00} MB through plain sockets take {floorCpu * 1e3:0.0} CPU-ms " +
            $"({floorWall * 1e3:0.0} ms wall) with no protocol; with single-process training at {computeCpu * 1e3:0.0} CPU-ms per step, " +
            $"{Environment.ProcessorCount} cores allow at most {boundRate:0} samples/s ({boundRate / singleRate:0.00}x of single process) for any TCP transport" +
            (blockSeconds > 0
                ? $"; a step that waits for its tensors before and after the workers' block ({blockSeconds * 1e3:0.0} ms of compute) reaches at most " +
                  $"{BatchSize / (blockSeconds + floorWall):0} samples/s ({BatchSize / (blockSeconds + floorWall) / singleRate:0.00}x) unless transport overlaps compute"
                : "");
    }

    private sealed record ClusterResult(StepWindow Window, double BytesPerStep, double ComputeSecondsPerStep, IReadOnlyList<string> Hops, double TracedBlockSeconds);

    private static string VariantName(GrpcServerTransport transport, TensorPath path, ClusterTrainingBenchmarkOptions o) =>
        (path == TensorPath.SharedMemory ? "tensors through shared memory" : "tensors on the TCP stream") +
        (o.ServerTransports.Count > 1 ? $", {transport} server" : "");

    private static async Task<ClusterResult> MeasureClusterAsync(TrainingOptions options, DataSplit data, string mnist, ClusterTrainingBenchmarkOptions o,
        GrpcServerTransport transport, TensorPath path)
    {
        int port = FreePort();
        var nodeOptions = new ClusterNodeOptions { Host = "127.0.0.1", Port = port, ClusterToken = "bench", ServerTransport = transport };
        if (path == TensorPath.Stream) nodeOptions.SharedMemoryDirectory = null;
        nodeOptions.Roles.Add(WorkerHost.CoordinatorRole);
        var traffic = new TrainingTraffic();
        nodeOptions.Serializers.AddTrainingMessages(traffic);
        await using var node = await ClusterNode.StartAsync(nodeOptions);
        var workers = new List<Process>();
        string traces = Directory.CreateTempSubdirectory("parallelnet-hops-").FullName;
        try
        {
            HopTimeline.StartCoordinator(traces);
            for (int i = 0; i < o.Workers; i++) workers.Add(StartWorker(port, mnist, traces, path));
            int[] pids = [Environment.ProcessId, .. workers.Select(w => w.Id)];
            var window = new StepWindow(o.WarmupSteps, o.WarmupSteps + o.Steps, traffic, pids);
            var runner = new ClusterJobRunner(() => node, new ClusterJobSettings { MinWorkers = o.Workers, WorkerWaitTimeout = TimeSpan.FromMinutes(2) });
            await runner.RunAsync(new JobRun("bench", options, "mnist", data, 0, window), CancellationToken.None);
            window.RequireComplete("the cluster");
            HopTrace.Stop();
            await Task.Delay(200); // the workers' last lines reach their files
            var hops = HopTimeline.Summarize(traces, o.WarmupSteps + 1, o.WarmupSteps + o.Steps);
            return new ClusterResult(window, window.SocketBytes / (double)o.Steps, window.ComputeSeconds / o.Steps / o.Workers, hops.Lines, hops.BlockSeconds);
        }
        finally
        {
            HopTrace.Stop();
            foreach (var worker in workers)
            {
                if (!worker.HasExited) worker.Kill(entireProcessTree: true);
                worker.Dispose();
            }
            Directory.Delete(traces, recursive: true);
        }
    }

    /// <summary>
    /// Every round's figures, each cluster beside the single process of its own round, and the median of those ratios:
    /// the best rounds above may come from minutes with different load, and the spread shows how much the host moved them.
    /// </summary>
    internal static void WriteRounds(TextWriter output, IReadOnlyList<string> names, IReadOnlyList<(double Single, double[] Clusters)> rounds)
    {
        int width = names.Max(n => n.Length) + 3;
        output.WriteLine("each round (samples/s; in brackets the ratio to that round's single process):");
        output.WriteLine($"  {"round",-7}{"single",10}" + string.Concat(names.Select(n => n.PadLeft(width))));
        for (int r = 0; r < rounds.Count; r++)
            output.WriteLine($"  {r + 1,-7}{rounds[r].Single,10:0}" + string.Concat(rounds[r].Clusters.Select(c => $"{c:0} ({c / rounds[r].Single:0.00}x)".PadLeft(width))));
        output.WriteLine($"  {"median ratio",-17}" + string.Concat(names.Select((_, v) => $"{Median(rounds.Select(x => x.Clusters[v] / x.Single)):0.00}x".PadLeft(width))));
    }

    private static double Median(IEnumerable<double> values)
    {
        double[] sorted = values.Order().ToArray();
        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    private static Process StartWorker(int port, string mnist, string traces, TensorPath path)
    {
        var apphost = Path.Combine(AppContext.BaseDirectory, "parallelnet");
        var start = File.Exists(apphost) ? new ProcessStartInfo(apphost) : new ProcessStartInfo("dotnet") { ArgumentList = { Path.Combine(AppContext.BaseDirectory, "parallelnet.dll") } };
        foreach (var a in new[] { "node", "--role", "worker", "--listen", "127.0.0.1:0", "--seeds", $"127.0.0.1:{port}", "--cluster-token", "bench", "--data-dir", mnist, "--threads", "1",
                     "--shared-memory", path == TensorPath.SharedMemory ? "auto" : "off" })
            start.ArgumentList.Add(a);
        start.Environment[HopTrace.EnvironmentVariable] = traces;
        start.RedirectStandardError = true;
        start.RedirectStandardOutput = true;
        var process = Process.Start(start)!;
        process.ErrorDataReceived += (_, _) => { };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return process;
    }

    /// <summary>Times steps [start, end) and the training-message payload bytes and worker compute time in that window.</summary>
    private sealed class StepWindow(long startStep, long endStep, TrainingTraffic? traffic = null, int[]? processes = null) : ITrainingObserver
    {
        private readonly Dictionary<string, long> _samplesDone = [];
        private double?[] _cpuAtStart = [];
        private long _start;
        private long _ioAtStart;
        private bool _measuring;
        private long _lastStep;
        public double Seconds { get; private set; }
        public long SocketBytes { get; private set; }
        public double ComputeSeconds { get; private set; }

        /// <summary>CPU seconds each of the processes used in the window (coordinator first), null where /proc could not tell.</summary>
        public double?[] CpuSeconds { get; private set; } = [];

        public StepTimeline Timeline { get; } = new();

        public void OnStep(StepCompleted step)
        {
            _lastStep = step.Step;
            Timeline.StepApplied(step.Step, _measuring);
            if (step.Step == startStep)
            {
                _start = Stopwatch.GetTimestamp();
                _ioAtStart = WorkerIo();
                _cpuAtStart = Cpu();
                _measuring = true;
            }
            if (step.Step == endStep)
            {
                Seconds = Stopwatch.GetElapsedTime(_start).TotalSeconds;
                SocketBytes = WorkerIo() - _ioAtStart;
                CpuSeconds = Cpu().Zip(_cpuAtStart, (end, start) => end - start).ToArray();
                _measuring = false;
            }
        }

        public void OnWorker(WorkerActivity activity)
        {
            _samplesDone.TryGetValue(activity.Name, out long before);
            _samplesDone[activity.Name] = activity.SamplesDone;
            if (activity.Status != WorkerStatus.Working || activity.SamplesPerSecond <= 0) return;
            double seconds = (activity.SamplesDone - before) / activity.SamplesPerSecond;
            Timeline.BlockReported(activity.Step, seconds);
            if (_measuring) ComputeSeconds += seconds;
        }

        /// <summary>Throws when the job ended before the window's last step: its figures would be empty.</summary>
        public void RequireComplete(string run)
        {
            if (Seconds > 0) return;
            throw new InvalidOperationException($"The job of {run} ended before step {endStep}, the last timed one (it reached step {_lastStep}); " +
                "it failed or stopped early, so there is nothing to report. See the log above.");
        }

        private double?[] Cpu() => (processes ?? []).Select(ProcessCpu.Seconds).ToArray();

        // Every worker talks only to the coordinator, so the coordinator's traffic in both directions is all there is.
        private long WorkerIo() => traffic is null ? 0 : traffic.EncodedBytes + traffic.DecodedBytes;
    }

    /// <summary>The copy a receiver makes of one tensor of the model's size (weights or a gradient), best of several.</summary>
    private static double DecodeSeconds(long parameters)
    {
        var bytes = new byte[parameters * 4];
        double best = double.MaxValue;
        for (int i = 0; i < 20; i++)
        {
            long t = Stopwatch.GetTimestamp();
            _ = TensorBytes.ToFloats(bytes);
            best = Math.Min(best, Stopwatch.GetElapsedTime(t).TotalSeconds);
        }
        return best;
    }

    private static double Ddp(ClusterTrainingBenchmarkOptions o, string mnist, int world)
    {
        string raw = Path.Combine(Path.GetTempPath(), "parallelnet-mnist-raw");
        try
        {
            Directory.CreateDirectory(raw);
            foreach (var name in new[] { "train-images-idx3-ubyte", "train-labels-idx1-ubyte" })
            {
                string target = Path.Combine(raw, name);
                if (File.Exists(target)) continue;
                string plain = Path.Combine(mnist, name), gz = plain + ".gz";
                if (File.Exists(plain)) File.Copy(plain, target);
                else
                {
                    using var input = new GZipStream(File.OpenRead(gz), CompressionMode.Decompress);
                    using var file = File.Create(target + ".tmp");
                    input.CopyTo(file);
                    file.Close();
                    File.Move(target + ".tmp", target, overwrite: true);
                }
            }
            var start = new ProcessStartInfo(o.Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "Bench", "torch_ddp.py"), raw, $"{world}", $"{o.Steps}" }) start.ArgumentList.Add(a);
            start.Environment.Remove("OPENBLAS_CORETYPE");
            start.Environment.Remove("OPENBLAS_L2_SIZE");
            using var process = Process.Start(start)!;
            var error = process.StandardError.ReadToEndAsync();
            string text = process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(600_000)) { process.Kill(true); return 0; }
            var line = text.Split('\n').FirstOrDefault(l => l.Contains("samples_per_s=", StringComparison.Ordinal));
            if (line is null)
            {
                Console.Error.WriteLine($"PyTorch DDP ({world} ranks) printed no figure: {error.Result.Split('\n').LastOrDefault(l => l.Length > 0)}");
                return 0;
            }
            return double.Parse(line[(line.IndexOf("samples_per_s=", StringComparison.Ordinal) + 14)..].Trim(), CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or System.ComponentModel.Win32Exception or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"PyTorch DDP ({world} ranks) could not run: {e.Message}");
            return 0;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

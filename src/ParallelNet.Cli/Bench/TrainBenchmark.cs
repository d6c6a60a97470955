using System.Diagnostics;
using System.Text.Json;
using ParallelNet.Data;
using ParallelNet.NN;
using ParallelNet.NN.Optimizers;
using ParallelNet.Tensors;
using ParallelNet.Tensors.Cpu;
using ParallelNet.Tensors.OpenCL;
using ParallelNet.Training;

namespace ParallelNet.Cli.Bench;

internal sealed record TrainBenchmarkOptions(IReadOnlyList<string> Models, IReadOnlyList<int> Threads, IReadOnlyList<int> VirtualShards,
    int BatchSize, int WarmupSteps, int Steps, string? DataDir, bool Json, string Python = "/usr/bin/python3", int Rounds = 1, string Device = "cpu", bool MeasurePeer = true);

/// <summary>
/// `parallelnet bench train`: steady-state samples/s of ParallelNet's plain training loop and of
/// PyTorch 1.13 on the same model, batch, optimizer and data, measured in one run, side by side.
/// With <c>--device opencl[:N]</c> an OpenCL row (the whole loop on the device) joins the CPU rows of each model.
/// </summary>
internal static class TrainBenchmark
{
    public static int Run(TrainBenchmarkOptions o, TextWriter output)
    {
        var data = DatasetCatalog.Load("mnist", o.DataDir);
        string mnistDirectory = MnistFetcher.ResolveDirectory(o.DataDir);
        if (o.Rounds < 1) throw new UsageException($"bench train: --rounds must be at least 1, got {o.Rounds}.");
        using var device = o.Device.Trim().Equals("cpu", StringComparison.OrdinalIgnoreCase) ? null
            : ComputeDevices.Create(o.Device, 0, output.WriteLine) as OpenClCompute
              ?? throw new ArgumentException($"bench train: --device {o.Device} is not an OpenCL device here; use opencl or opencl:N (or omit --device for the CPU rows only).");
        var rows = new List<Row>();
        void Add(Row row)
        {
            rows.Add(row);
            if (o.Json) output.WriteLine(JsonSerializer.Serialize(row));
        }
        foreach (var model in o.Models)
        {
            // Rounds alternate the peer and every row of ours, so a change of machine load over the run hits
            // both sides; each keeps its best round.
            PeerResult peer = new(0, 0, "not measured");
            var ours = new Dictionary<(int Threads, int Shards), double>();
            for (int round = 0; round < o.Rounds; round++)
            {
                var peerRound = o.MeasurePeer ? MeasurePeer(o, model, mnistDirectory, output) : new PeerResult(0, 0, "PyTorch not measured (--no-peer)");
                if (peerRound.SamplesPerSecond > peer.SamplesPerSecond || peer.SamplesPerSecond == 0) peer = peerRound;
                foreach (int threads in o.Threads)
                {
                    foreach (int shards in o.VirtualShards)
                        ours[(threads, shards)] = Math.Max(ours.GetValueOrDefault((threads, shards)), MeasureOurs(o, model, data, new CpuCompute(threads), shards));
                }
            }
            foreach (int threads in o.Threads)
            {
                foreach (int shards in o.VirtualShards)
                    Add(new Row(model, "cpu", threads, shards, ours[(threads, shards)], peer.SamplesPerSecond, peer.Threads, peer.Error));
            }
            if (device is null) continue;
            foreach (int shards in o.VirtualShards)
                Add(new Row(model, device.Name, 0, shards, MeasureOurs(o, model, data, device, shards), peer.SamplesPerSecond, peer.Threads, peer.Error));
        }
        if (!o.Json) PrintTable(rows, o, output);
        return ExitCodes.Success;
    }

    /// <param name="Threads">CPU backend threads; 0 on an OpenCL row.</param>
    private sealed record Row(string Model, string Device, int Threads, int VirtualShards, double SamplesPerSecond, double PeerSamplesPerSecond, int PeerThreads, string? PeerError)
    {
        public double Ratio => PeerSamplesPerSecond > 0 ? SamplesPerSecond / PeerSamplesPerSecond : double.NaN;
    }

    private sealed record PeerResult(double SamplesPerSecond, int Threads, string? Error);

    private static double MeasureOurs(TrainBenchmarkOptions o, string modelName, DataSplit data, ICompute compute, int shards)
    {
        var options = new TrainingOptions
        {
            Model = ModelSpec.Preset(modelName, data.Train.SampleShape, data.Train.Classes > 0 ? data.Train.Classes : null),
            Optimizer = new OptimizerOptions(OptimizerKind.Sgd, 0.05f, 0.9f),
            Epochs = EpochsCovering(o.WarmupSteps + o.Steps, o.BatchSize, data.Train.Count),
            BatchSize = o.BatchSize,
            VirtualShards = shards,
            MaxSteps = o.WarmupSteps + o.Steps,
        };
        var timer = new StepTimer(o.WarmupSteps, o.WarmupSteps + o.Steps);
        var noTest = data with { Test = data.Test.Subset([], "none") };
        new LocalTrainer(options, noTest, compute, timer).Run();
        return o.Steps * (double)o.BatchSize / timer.Seconds;
    }

    /// <summary>
    /// Epochs enough for <paramref name="steps"/> steps, so a benchmark's job runs to its last timed step: an MNIST epoch
    /// at batch 128 is only 469 steps, and a job that ended early would leave the timing window open.
    /// </summary>
    internal static int EpochsCovering(long steps, int batchSize, int trainSamples)
    {
        long stepsPerEpoch = Math.Max(1, trainSamples / Math.Max(1, batchSize));
        long epochs = steps / stepsPerEpoch + 1;
        if (epochs > int.MaxValue) throw new UsageException($"{steps} steps at batch {batchSize} over {trainSamples} samples need more than {int.MaxValue} epochs; time fewer steps.");
        return (int)epochs;
    }

    private sealed class StepTimer(long startStep, long endStep) : ITrainingObserver
    {
        private long _start;
        public double Seconds { get; private set; }

        public void OnStep(StepCompleted step)
        {
            if (step.Step == startStep) _start = Stopwatch.GetTimestamp();
            if (step.Step == endStep) Seconds = Stopwatch.GetElapsedTime(_start).TotalSeconds;
        }
    }

    /// <summary>PyTorch at 1 and 2 threads (its fastest counts here); the best figure is the peer.</summary>
    private static PeerResult MeasurePeer(TrainBenchmarkOptions o, string model, string mnistDirectory, TextWriter output)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "Bench", "torch_peer.py");
        PeerResult best = new(0, 0, "not measured");
        foreach (int threads in new[] { 1, 2 })
        {
            var start = new ProcessStartInfo(o.Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { script, mnistDirectory, model, $"{threads}", $"{o.BatchSize}", $"{o.WarmupSteps}", $"{o.Steps}" }) start.ArgumentList.Add(a);
            // OpenBLAS's fastest kernels for this CPU; set for the peer process only (see the reference recipes).
            start.Environment.Remove("OPENBLAS_L2_SIZE");
            start.Environment.Remove("OPENBLAS_CORETYPE");
            if (OpenBlas.PreferredCoreType is { } coreType) start.Environment["OPENBLAS_CORETYPE"] = coreType;
            start.Environment["OPENBLAS_NUM_THREADS"] = "1";
            try
            {
                using var process = Process.Start(start)!;
                string stdout = process.StandardOutput.ReadToEnd();
                string stderr = process.StandardError.ReadToEnd();
                process.WaitForExit();
                if (process.ExitCode != 0)
                {
                    best = best.SamplesPerSecond > 0 ? best : new PeerResult(0, 0, $"PyTorch peer failed: {stderr.Trim().Split('\n').LastOrDefault()}");
                    continue;
                }
                using var json = JsonDocument.Parse(stdout.Trim().Split('\n').Last());
                double rate = json.RootElement.GetProperty("samples_per_second").GetDouble();
                if (rate > best.SamplesPerSecond) best = new PeerResult(rate, threads, null);
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                return new PeerResult(0, 0, $"cannot run {o.Python} ({e.Message}); install python3-torch (bash .ci/setup.sh)");
            }
        }
        return best;
    }

    private static void PrintTable(List<Row> rows, TrainBenchmarkOptions o, TextWriter output)
    {
        output.WriteLine($"bench train: batch {o.BatchSize}, SGD lr 0.05 momentum 0.9, MNIST; {o.WarmupSteps} warm-up + {o.Steps} timed steps; best of {o.Rounds} interleaved round(s)");
        int deviceWidth = Math.Max(6, rows.Max(r => r.Device.Length));
        output.WriteLine($"{"model",-6} {"device".PadRight(deviceWidth)} {"threads",7} {"S",3} {"ParallelNet/s",14} {"PyTorch/s",10} {"(thr)",5} {"ratio",6}");
        foreach (var r in rows)
            output.WriteLine($"{r.Model,-6} {r.Device.PadRight(deviceWidth)} {(r.Threads > 0 ? r.Threads.ToString() : "-"),7} {r.VirtualShards,3} {r.SamplesPerSecond,14:N0} {r.PeerSamplesPerSecond,10:N0} {r.PeerThreads,5} {r.Ratio,6:F2}"
                + (r.PeerError is null ? "" : $"  ({r.PeerError})"));
    }
}

using System.Diagnostics;
using System.Text.Json;
using ParallelNet.Data;
using ParallelNet.NN;
using ParallelNet.NN.Optimizers;
using ParallelNet.Tensors.Cpu;
using ParallelNet.Training;
using ParallelNet.Training.Actors;

namespace ParallelNet.Cli.Bench;

internal sealed record ActorBenchmarkOptions(
    string OverheadModel, IReadOnlyList<int> Workers, int OverheadShards,
    IReadOnlyList<string> ShardModels, IReadOnlyList<int> ShardCounts,
    int BatchSize, int WarmupSteps, int Steps, int Repeats, string? DataDir, bool Json);

/// <summary>
/// `parallelnet bench actors`, two tables measured in one run on MNIST:
/// (1) the actors' overhead: N in-process workers (1 thread each) against the plain loop at the same
/// batch and S, as a share of the plain loop's step time at the same total thread count;
/// (2) the cost of the virtual shard count S: steady samples/s of the plain loop (1 thread) and of
/// two workers, for each S, so the default S is an informed choice.
/// </summary>
internal static class ActorBenchmark
{
    public static int Run(ActorBenchmarkOptions o, TextWriter output)
    {
        if (o.Workers.Count == 0 || o.Workers.Any(w => w < 1)) throw new UsageException("--workers needs one or more positive counts, e.g. --workers 1 2 4.");
        if (o.BatchSize < 1 || o.WarmupSteps < 0 || o.Steps < 1 || o.Repeats < 1) throw new UsageException("--batch-size, --steps and --repeats must be positive and --warmup-steps non-negative.");
        var full = DatasetCatalog.Load("mnist", o.DataDir);
        // No test split: an epoch-end evaluation would land inside the timed window.
        var data = full with { Test = full.Test.Subset([], "none") };

        string loadBefore = LoadAverage.Read();
        var overhead = new List<OverheadRow>();
        foreach (int workers in o.Workers)
        {
            int threads = Math.Min(workers, Environment.ProcessorCount);
            var (plain, actors) = MeasureSideBySide(o,
                timer => RunPlain(o, data, o.OverheadModel, o.OverheadShards, threads, timer),
                timer => RunActors(o, data, o.OverheadModel, o.OverheadShards, workers, timer));
            var row = new OverheadRow(o.OverheadModel, o.OverheadShards, workers, threads, plain, actors);
            overhead.Add(row);
            if (o.Json) output.WriteLine(JsonSerializer.Serialize(row));
        }

        var costs = new List<ShardCostRow>();
        foreach (var model in o.ShardModels)
        {
            foreach (int shards in o.ShardCounts)
            {
                if (shards > o.BatchSize) continue;
                var (plain, actors) = MeasureSideBySide(o,
                    timer => RunPlain(o, data, model, shards, 1, timer),
                    timer => RunActors(o, data, model, shards, 2, timer));
                var row = new ShardCostRow(model, shards, plain, actors);
                costs.Add(row);
                if (o.Json) output.WriteLine(JsonSerializer.Serialize(row));
            }
        }
        if (!o.Json) Print(o, overhead, costs, output);
        output.WriteLine(o.Json ? JsonSerializer.Serialize(new { LoadAverageBefore = loadBefore, LoadAverageAfter = LoadAverage.Read() })
            : $"\nload average (1, 5, 15 min): {loadBefore} before, {LoadAverage.Read()} after");
        return ExitCodes.Success;
    }

    /// <summary>
    /// What one timed step cost: wall-clock and process CPU milliseconds, bytes allocated by every thread of
    /// the process, and milliseconds the JIT compiled meanwhile (above zero: the warm-up was too short); and the median
    /// of the steps' own wall-clock times, which a burst of load from other tenants moves less than the mean.
    /// </summary>
    private sealed record StepCost(double SamplesPerSecond, double WallMilliseconds, double CpuMilliseconds, double AllocatedBytes, double JitMilliseconds,
        double MedianWallMilliseconds);

    private sealed record OverheadRow(string Model, int VirtualShards, int Workers, int PlainThreads, StepCost Plain, StepCost Actors)
    {
        /// <summary>Extra wall-clock time per step of the actors over the plain loop, as a share of the plain loop's step time (negative: faster).</summary>
        public double OverheadPercent => 100 * (Actors.WallMilliseconds / Plain.WallMilliseconds - 1);

        /// <summary>The same for the CPU time of the process, which the other tenants of a shared machine disturb less.</summary>
        public double CpuOverheadPercent => 100 * (Actors.CpuMilliseconds / Plain.CpuMilliseconds - 1);

        /// <summary>The same for the median step's wall-clock time.</summary>
        public double MedianOverheadPercent => 100 * (Actors.MedianWallMilliseconds / Plain.MedianWallMilliseconds - 1);
    }

    private sealed record ShardCostRow(string Model, int VirtualShards, StepCost Plain, StepCost TwoWorkers);

    private static TrainingOptions Options(ActorBenchmarkOptions o, DataSplit data, string model, int shards) => new()
    {
        Model = ModelSpec.Preset(model, data.Train.SampleShape, data.Train.Classes > 0 ? data.Train.Classes : null),
        Optimizer = new OptimizerOptions(OptimizerKind.Sgd, 0.05f, 0.9f),
        Epochs = TrainBenchmark.EpochsCovering(o.WarmupSteps + o.Steps, o.BatchSize, data.Train.Count),
        BatchSize = o.BatchSize,
        VirtualShards = shards,
        MaxSteps = o.WarmupSteps + o.Steps,
    };

    private static void RunPlain(ActorBenchmarkOptions o, DataSplit data, string model, int shards, int threads, StepTimer timer)
        => new LocalTrainer(Options(o, data, model, shards), data, new CpuCompute(threads), timer).Run();

    private static void RunActors(ActorBenchmarkOptions o, DataSplit data, string model, int shards, int workers, StepTimer timer)
        => new ActorTrainer(Options(o, data, model, shards), data, new ActorTrainerSettings { Workers = workers, ThreadsPerWorker = 1 }, timer).Run();

    /// <summary>
    /// The best of a few runs of each side (figure by figure), the two sides taking turns, so a burst of load from the other
    /// tenants of a shared machine (which only ever slows a run down) hits both alike, and neither side
    /// alone pays for the JIT compiling the code paths they share.
    /// </summary>
    private static (StepCost Plain, StepCost Actors) MeasureSideBySide(ActorBenchmarkOptions o, Action<StepTimer> plain, Action<StepTimer> actors)
    {
        StepCost? bestPlain = null, bestActors = null;
        for (int r = 0; r < o.Repeats; r++)
        {
            bestPlain = Best(bestPlain, Measure(o, plain));
            bestActors = Best(bestActors, Measure(o, actors));
        }
        return (bestPlain!, bestActors!);
    }

    private static StepCost Measure(ActorBenchmarkOptions o, Action<StepTimer> run)
    {
        var timer = new StepTimer(o.WarmupSteps, o.WarmupSteps + o.Steps);
        run(timer);
        return timer.Cost(o);
    }

    /// <summary>
    /// Each figure's best over the runs so far, taken figure by figure: load from other tenants only ever adds wall
    /// time and (by slowing a hyper-thread sibling) CPU time, and it need not hit both in the same run.
    /// </summary>
    private static StepCost Best(StepCost? best, StepCost candidate)
    {
        if (best is null || double.IsNaN(best.WallMilliseconds)) return candidate;
        if (double.IsNaN(candidate.WallMilliseconds)) return best;
        return new StepCost(Math.Max(best.SamplesPerSecond, candidate.SamplesPerSecond), Math.Min(best.WallMilliseconds, candidate.WallMilliseconds),
            Math.Min(best.CpuMilliseconds, candidate.CpuMilliseconds), Math.Min(best.AllocatedBytes, candidate.AllocatedBytes), Math.Min(best.JitMilliseconds, candidate.JitMilliseconds),
            Math.Min(best.MedianWallMilliseconds, candidate.MedianWallMilliseconds));
    }

    /// <summary>Times the steps after the warm-up, from the end of step <c>startStep</c> to the end of step <c>endStep</c>.</summary>
    private sealed class StepTimer(long startStep, long endStep) : ITrainingObserver
    {
        private long _start, _previous, _allocatedAtStart;
        private readonly List<double> _stepMilliseconds = [];
        private TimeSpan _cpuAtStart, _jitAtStart, _jit;
        private double _seconds, _cpuSeconds, _allocated;

        public void OnStep(StepCompleted step)
        {
            if (step.Step == Math.Max(startStep, 1))
            {
                _cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
                _allocatedAtStart = GC.GetTotalAllocatedBytes(precise: true);
                _jitAtStart = System.Runtime.JitInfo.GetCompilationTime();
                _start = _previous = Stopwatch.GetTimestamp();
            }
            else if (step.Step > Math.Max(startStep, 1) && step.Step <= endStep)
            {
                long now = Stopwatch.GetTimestamp();
                _stepMilliseconds.Add(Stopwatch.GetElapsedTime(_previous, now).TotalMilliseconds);
                _previous = now;
            }
            if (step.Step == endStep)
            {
                _seconds = Stopwatch.GetElapsedTime(_start).TotalSeconds;
                _allocated = GC.GetTotalAllocatedBytes(precise: true) - _allocatedAtStart;
                _cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - _cpuAtStart).TotalSeconds;
                _jit = System.Runtime.JitInfo.GetCompilationTime() - _jitAtStart;
            }
        }

        public StepCost Cost(ActorBenchmarkOptions o)
        {
            long timedSteps = endStep - Math.Max(startStep, 1);
            if (timedSteps <= 0 || _seconds <= 0) return new StepCost(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
            _stepMilliseconds.Sort();
            double median = _stepMilliseconds.Count == 0 ? double.NaN : _stepMilliseconds[_stepMilliseconds.Count / 2];
            return new StepCost(timedSteps * (double)o.BatchSize / _seconds, 1000 * _seconds / timedSteps, 1000 * _cpuSeconds / timedSteps, _allocated / timedSteps, _jit.TotalMilliseconds / timedSteps,
                median);
        }
    }

    private static void Print(ActorBenchmarkOptions o, List<OverheadRow> overhead, List<ShardCostRow> costs, TextWriter output)
    {
        output.WriteLine($"bench actors: MNIST, batch {o.BatchSize}, SGD momentum; {o.WarmupSteps} warm-up + {o.Steps} timed steps, best of {o.Repeats} runs per figure (each figure's own best), the two sides of a row taking turns; {Environment.ProcessorCount} logical CPUs");
        output.WriteLine();
        output.WriteLine($"(1) actor overhead, {o.OverheadModel}, S = {o.OverheadShards}: N workers of 1 thread vs the plain loop with min(N, CPUs) threads; per step: wall ms (mean, then median step),");
        output.WriteLine("    process CPU ms, KB allocated");
        output.WriteLine($"{"workers",7} {"plain thr",9} {"plain ms",9} {"actors ms",9} {"overhead",9} {"plain med",9} {"actor med",9} {"med ovh",8} {"plain cpu",9} {"actor cpu",9} {"cpu ovh",8} {"plain KB",9} {"actors KB",9}");
        foreach (var r in overhead)
            output.WriteLine($"{r.Workers,7} {r.PlainThreads,9} {r.Plain.WallMilliseconds,9:F2} {r.Actors.WallMilliseconds,9:F2} {r.OverheadPercent,8:F1}% {r.Plain.MedianWallMilliseconds,9:F2} {r.Actors.MedianWallMilliseconds,9:F2} {r.MedianOverheadPercent,7:F1}% " +
                $"{r.Plain.CpuMilliseconds,9:F2} {r.Actors.CpuMilliseconds,9:F2} {r.CpuOverheadPercent,7:F1}% {r.Plain.AllocatedBytes / 1024,9:F1} {r.Actors.AllocatedBytes / 1024,9:F1}");
        output.WriteLine();
        output.WriteLine($"(2) cost of S at batch {o.BatchSize}: samples/s of the plain loop (1 thread) and of 2 workers (1 thread each)");
        output.WriteLine($"{"model",-6} {"S",3} {"plain/s",9} {"vs S=1",7} {"2 workers/s",12} {"vs S=1",7} {"actors KB",9}");
        foreach (var group in costs.GroupBy(c => c.Model))
        {
            var first = group.First();
            foreach (var r in group)
                output.WriteLine($"{r.Model,-6} {r.VirtualShards,3} {r.Plain.SamplesPerSecond,9:N0} {r.Plain.SamplesPerSecond / first.Plain.SamplesPerSecond,7:F2} {r.TwoWorkers.SamplesPerSecond,12:N0} {r.TwoWorkers.SamplesPerSecond / first.TwoWorkers.SamplesPerSecond,7:F2} {r.TwoWorkers.AllocatedBytes / 1024,9:F1}");
        }
        double jit = overhead.SelectMany(r => new[] { r.Plain, r.Actors }).Concat(costs.SelectMany(r => new[] { r.Plain, r.TwoWorkers }))
            .Select(c => c.JitMilliseconds).Where(ms => !double.IsNaN(ms)).DefaultIfEmpty(0).Max();
        // Compiling on a sibling hyper-thread slows the timed thread: such a figure is not steady state.
        if (jit > 0.1) output.WriteLine($"\nnote: the JIT compiled up to {jit:F2} ms per timed step in a figure above; more --warmup-steps give steadier figures.");
    }
}

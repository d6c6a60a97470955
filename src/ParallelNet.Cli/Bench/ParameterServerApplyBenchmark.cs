using System.CommandLine;
using System.Diagnostics;
using ParallelNet.Data;
using ParallelNet.NN;
using ParallelNet.NN.Optimizers;
using ParallelNet.Tensors;
using ParallelNet.Tensors.Cpu;
using ParallelNet.Training;

namespace ParallelNet.Cli.Bench;

/// <summary>
/// `parallelnet bench ps-apply`: the parameter server's work between the last gradient block and the published weights
/// (combine the blocks along the tree times 1/batch, check, clip, update) on the mlp's 669,706 parameters, without actors
/// or sockets, so the variants compare on steadier numbers than a cluster step's hop trace gives. The variants take turns
/// round by round; each shows its median and its best round (load from other tenants only ever adds time).
/// </summary>
internal static class ParameterServerApplyBenchmark
{
    public static Command Create()
    {
        var threads = new Option<int>("--threads") { Description = "The server's compute threads (0: every core, as in a cluster coordinator).", DefaultValueFactory = _ => 0 };
        var blocks = new Option<int>("--blocks") { Description = "Gradient blocks per step (workers), a power of two up to the 4 virtual shards.", DefaultValueFactory = _ => 2 };
        var iterations = new Option<int>("--iterations") { Description = "Applies per round.", DefaultValueFactory = _ => 200 };
        var rounds = new Option<int>("--rounds") { Description = "Rounds per variant, taking turns; the median and the best round are shown.", DefaultValueFactory = _ => 7 };
        var command = new Command("ps-apply", "The parameter server's combine + optimizer step on the mlp's gradients, variant beside variant.") { threads, blocks, iterations, rounds };
        command.SetAction(parse => Run(parse.GetValue(threads), parse.GetValue(blocks), parse.GetValue(iterations), parse.GetValue(rounds), parse.InvocationConfiguration.Output));
        return command;
    }

    private const int VirtualShards = 4;
    private const int BatchSize = 128;

    private static int Run(int threads, int blockCount, int iterations, int rounds, TextWriter output)
    {
        if (blockCount < 1 || blockCount > VirtualShards || (blockCount & (blockCount - 1)) != 0) throw new UsageException($"--blocks must be 1, 2 or 4, got {blockCount}.");
        if (iterations < 1 || rounds < 1) throw new UsageException("--iterations and --rounds must be positive.");
        var compute = new CpuCompute(threads);
        var optimizers = new (string Name, OptimizerOptions Options)[]
        {
            ("sgd momentum", new OptimizerOptions(OptimizerKind.Sgd, 0.05f, 0.9f)),
            ("adam", new OptimizerOptions(OptimizerKind.Adam, 1e-3f)),
            ("sgd momentum, clip norm", new OptimizerOptions(OptimizerKind.Sgd, 0.05f, 0.9f, ClipGlobalNorm: 1e-3f)),
            ("sgd momentum, clip value", new OptimizerOptions(OptimizerKind.Sgd, 0.05f, 0.9f, ClipValue: 1e-5f)),
        };
        output.WriteLine($"ps-apply: mlp 784-512-512-10, {blockCount} blocks of S = {VirtualShards}, batch {BatchSize}, {compute.Name}; ms per apply, median and best of {rounds} rounds of {iterations}; load {LoadAverage.Read()}");
        output.WriteLine($"{"optimizer",-26}{"variant",-30}{"median",8}{"best",8}");
        foreach (var (name, options) in optimizers)
        {
            var variants = Variants(options, compute, blockCount);
            var times = variants.Select(_ => new List<double>()).ToArray();
            foreach (var variant in variants) variant.Run(iterations); // warm-up: JIT tiers, page faults
            for (int r = 0; r < rounds; r++)
                for (int v = 0; v < variants.Length; v++) times[v].Add(variants[v].Run(iterations));
            for (int v = 0; v < variants.Length; v++)
            {
                times[v].Sort();
                output.WriteLine($"{name,-26}{variants[v].Name,-30}{times[v][times[v].Count / 2],8:F3}{times[v][0],8:F3}");
            }
        }
        output.WriteLine($"load after {LoadAverage.Read()}");
        return ExitCodes.Success;
    }

    private static Variant[] Variants(OptimizerOptions options, ICompute compute, int blockCount) =>
    [
        new("combine alone", options, compute, blockCount, (v, sums) => v.Combine(sums)),
        new("check + norm pass alone", options, compute, blockCount, (v, _) => v.CheckOnly()),
        new("update kernel alone", options, compute, blockCount, (v, _) => v.UpdateOnly()),
        new("combine, StepAveraged", options, compute, blockCount, (v, sums) => { v.Combine(sums); v.StepAveraged(); }),
        new("fused, as the server does", options, compute, blockCount, (v, sums) => v.Fused(sums)),
    ];

    /// <summary>One way to apply a step, on buffers of its own.</summary>
    private sealed class Variant
    {
        private readonly Model _model;
        private readonly Optimizer _optimizer;
        private readonly AveragedGradientStep _averagedStep;
        private readonly int _combineThreads;
        private readonly ShardBlock[] _blocks;
        private readonly float[][] _received;
        private readonly ReadOnlyMemory<float>[] _sums;
        // The parameter server's gradient total: the combine writes it, the received blocks are only read.
        private readonly float[] _total;
        private readonly Tensor _gradients;
        private readonly Tensor _firstMoment;
        private readonly Tensor _secondMoment;
        private readonly Action<Variant, ReadOnlyMemory<float>[]> _apply;

        public Variant(string name, OptimizerOptions options, ICompute compute, int blockCount, Action<Variant, ReadOnlyMemory<float>[]> apply)
        {
            Name = name;
            _apply = apply;
            _model = Model.Create(ModelSpec.Preset("mlp", new Shape(1, 28, 28), 10), compute, 1);
            _model.Initialize(1);
            _optimizer = new Optimizer(options, _model.Layout, compute);
            _combineThreads = compute is CpuCompute cpu ? cpu.Threads : 1;
            _averagedStep = new AveragedGradientStep(_optimizer, _combineThreads);
            _blocks = [.. ShardPlan.AssignBlocks(VirtualShards, blockCount)];
            var random = new System.Random(7);
            _received = new float[blockCount][];
            _sums = new ReadOnlyMemory<float>[blockCount];
            for (int k = 0; k < blockCount; k++)
            {
                _received[k] = new float[_model.Layout.TotalSize];
                for (int i = 0; i < _received[k].Length; i++) _received[k][i] = (float)(random.NextDouble() - 0.5) * 1e-2f;
                _sums[k] = _received[k];
            }
            _total = new float[_model.Layout.TotalSize];
            _gradients = Tensor.FromArray(_total, new Shape(_total.Length));
            _firstMoment = compute.Allocate(new Shape(_received[0].Length));
            _secondMoment = compute.Allocate(new Shape(_received[0].Length));
        }

        public string Name { get; }

        public bool Combine(ReadOnlyMemory<float>[] sums)
            => ReductionTree.CombineBlocksScaled(VirtualShards, _blocks, sums, _total, 1f / BatchSize, _combineThreads);

        public void StepAveraged() => _optimizer.StepAveraged(_model.Parameters, _gradients, BatchSize, totalSteps: 0);

        /// <summary>What ParameterServer.Apply does on a host backend without L2.</summary>
        public void Fused(ReadOnlyMemory<float>[] sums)
        {
            _averagedStep.Combine(VirtualShards, _blocks, sums, _total, 1f / BatchSize);
            _averagedStep.Step(_model.Parameters, _gradients, BatchSize, totalSteps: 0);
        }

        /// <summary>The optimizer's finiteness and norm pass on its own: each slot's sum of squares, as CheckFinite measures.</summary>
        public void CheckOnly()
        {
            double sum = 0;
            foreach (var p in _model.Layout.Parameters) sum += _model.Compute.SumOfSquares(_gradients.View(p.Offset, p.Shape));
            if (double.IsNaN(sum)) throw new InvalidOperationException("The benchmark's gradients went non-finite.");
        }

        /// <summary>The update kernel of the optimizer's kind over the whole buffer, on state of the benchmark's own.</summary>
        public void UpdateOnly()
        {
            if (_optimizer.Options.Kind == OptimizerKind.Sgd) _model.Compute.SgdStep(_model.Parameters, _gradients, _firstMoment, 0.05f, 0.9f, 0f, false, false);
            else _model.Compute.AdamStep(_model.Parameters, _gradients, _firstMoment, _secondMoment, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, false, 5);
        }

        /// <summary>Milliseconds per apply. The combine leaves (b0 + b1) / batch in the first block, which stays finite and small over the runs.</summary>
        public double Run(int iterations)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < iterations; i++) _apply(this, _sums);
            return Stopwatch.GetElapsedTime(start).TotalMilliseconds / iterations;
        }
    }
}

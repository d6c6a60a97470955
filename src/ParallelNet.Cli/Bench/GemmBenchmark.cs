using System.Diagnostics;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using ParallelNet.Tensors.Cpu.Gemm;

namespace ParallelNet.Cli.Bench;

/// <summary>Options of <c>parallelnet bench gemm</c>.</summary>
public sealed record GemmBenchmarkOptions
{
    /// <summary>Thread counts to measure, each for ours and OpenBLAS.</summary>
    public IReadOnlyList<int> Threads { get; init; } = [1, 2];

    /// <summary>One JSON object per line instead of a table.</summary>
    public bool Json { get; init; }

    /// <summary>Timed rounds (about 10 ms each) per shape, thread count and library; the best round counts, being the least disturbed by other load.</summary>
    public int Repeats { get; init; } = 15;

    /// <summary>Mini-batch sizes of the MLP shapes (784-512-512-10).</summary>
    public IReadOnlyList<int> Batches { get; init; } = [128, 32, 16];

    // Tests shrink the run: the defaults are what tiered compilation needs to reach optimized code.
    internal int WarmUpPasses { get; init; } = 60;
    internal double WarmUpSeconds { get; init; } = 1.0;
    internal bool IncludeSquare { get; init; } = true;
}

/// <summary>
/// <c>parallelnet bench gemm</c>: GFLOP/s of <see cref="CpuGemm"/> against OpenBLAS sgemm on the
/// products one MLP training step runs, and on 1024^3, measured interleaved in one process so both
/// see the same machine load.
/// </summary>
public static class GemmBenchmark
{
    private const double RoundSeconds = 0.01;

    private sealed record GemmShape(string Name, bool TransposeA, bool TransposeB, int M, int N, int K)
    {
        public double Flops => 2.0 * M * N * K;
    }

    private sealed record Measurement(GemmShape Shape, int Threads, double OursGflops, double? OpenBlasGflops, double MaxRelativeDifference);

    public static int Run(GemmBenchmarkOptions options, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        if (options.Threads.Count == 0 || options.Threads.Any(t => t <= 0))
            throw new ArgumentException("bench gemm: --threads needs one or more positive thread counts, e.g. 1 2.");
        if (options.Repeats <= 0)
            throw new ArgumentException($"bench gemm: --repeats must be positive, got {options.Repeats}.");
        if (options.Batches.Count == 0 || options.Batches.Any(b => b <= 0))
            throw new ArgumentException("bench gemm: batch sizes must be positive.");

        bool haveOpenBlas = OpenBlas.TryLoad(out string coreType, out string failure);
        if (!haveOpenBlas) Warn(failure, options.Json, output);
        else if (OpenBlas.PreferredCoreType is { } preferred && !coreType.Equals(preferred, StringComparison.OrdinalIgnoreCase))
            Warn($"OpenBLAS runs core type '{coreType}', not {preferred}; re-run as " +
                $"OPENBLAS_CORETYPE={preferred} parallelnet bench gemm to compare with its AVX-512 kernels.", options.Json, output);

        List<GemmShape> shapes = Shapes(options.Batches, options.IncludeSquare);
        var buffers = shapes.ToDictionary(s => s, s => new Operands(s));
        if (!options.Json)
        {
            output.WriteLine($"GEMM benchmark: ours ({Environment.ProcessorCount} CPUs) vs " +
                (haveOpenBlas ? $"OpenBLAS (core {coreType})" : "no OpenBLAS") + $", best of {options.Repeats} rounds");
            output.WriteLine($"{"shape",-31} {"threads",7} {"ours GFLOP/s",13} {"OpenBLAS GFLOP/s",17} {"ratio",6}");
        }

        WarmUp(shapes, buffers, options, haveOpenBlas);
        var results = new List<Measurement>();
        foreach (GemmShape shape in shapes)
        {
            foreach (int threads in options.Threads)
            {
                Measurement result = Measure(shape, buffers[shape], threads, options.Repeats, haveOpenBlas);
                results.Add(result);
                Print(result, options.Json, output);
            }
        }
        if (!options.Json && haveOpenBlas)
        {
            foreach (int threads in options.Threads)
            {
                var ratios = results.Where(r => r.Threads == threads && r.OpenBlasGflops is > 0).Select(r => r.OursGflops / r.OpenBlasGflops!.Value).ToList();
                double geometricMean = Math.Exp(ratios.Average(Math.Log));
                output.WriteLine($"geometric-mean ratio at {threads} thread(s): {geometricMean:F2}");
            }
        }
        return 0;
    }

    private static List<GemmShape> Shapes(IReadOnlyList<int> batches, bool includeSquare)
    {
        (int In, int Out)[] layers = [(784, 512), (512, 512), (512, 10)];
        var shapes = new List<GemmShape>();
        foreach (int batch in batches)
        {
            for (int layer = 0; layer < layers.Length; layer++)
            {
                var (inputs, outputs) = layers[layer];
                shapes.Add(new GemmShape($"fwd B={batch} {inputs}->{outputs} (X W^T)", false, true, batch, outputs, inputs));
                shapes.Add(new GemmShape($"dW B={batch} {inputs}->{outputs} (dY^T X)", true, false, outputs, inputs, batch));
                // The first layer's input needs no gradient.
                if (layer > 0) shapes.Add(new GemmShape($"dX B={batch} {inputs}->{outputs} (dY W)", false, false, batch, inputs, outputs));
            }
        }
        if (includeSquare) shapes.Add(new GemmShape("square 1024^3 (A B)", false, false, 1024, 1024, 1024));
        return shapes;
    }

    private sealed class Operands(GemmShape shape)
    {
        public float[] A { get; } = RandomValues(shape.M * shape.K, 1);
        public float[] B { get; } = RandomValues(shape.K * shape.N, 2);
        public float[] OursC { get; } = new float[shape.M * shape.N];
        public float[] OpenBlasC { get; } = new float[shape.M * shape.N];

        private static float[] RandomValues(int length, int seed)
        {
            var random = new Random(seed);
            var values = new float[length];
            for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
            return values;
        }
    }

    // Enough calls of every code path for tiered compilation to reach its optimized (tier-1) code.
    private static void WarmUp(List<GemmShape> shapes, Dictionary<GemmShape, Operands> buffers, GemmBenchmarkOptions options, bool haveOpenBlas)
    {
        var clock = Stopwatch.StartNew();
        for (int pass = 0; pass < options.WarmUpPasses || clock.Elapsed.TotalSeconds < options.WarmUpSeconds; pass++)
        {
            foreach (GemmShape shape in shapes)
            {
                if (shape.Flops > 1e8 && pass % 10 != 0) continue;
                foreach (int threads in options.Threads)
                {
                    RunOurs(shape, buffers[shape], threads);
                    if (haveOpenBlas && pass % 10 == 0)
                    {
                        OpenBlas.SetThreads(threads);
                        RunOpenBlas(shape, buffers[shape]);
                    }
                }
            }
            if (clock.Elapsed.TotalSeconds > 10) break;
        }
    }

    private static Measurement Measure(GemmShape shape, Operands operands, int threads, int repeats, bool haveOpenBlas)
    {
        int calls = Math.Max(1, (int)(RoundSeconds * 30e9 / shape.Flops));
        double oursBest = double.MaxValue, openBlasBest = double.MaxValue;
        if (haveOpenBlas) OpenBlas.SetThreads(threads);
        for (int round = 0; round < repeats; round++)
        {
            oursBest = Math.Min(oursBest, Time(() => RunOurs(shape, operands, threads), calls));
            if (haveOpenBlas) openBlasBest = Math.Min(openBlasBest, Time(() => RunOpenBlas(shape, operands), calls));
        }
        double difference = haveOpenBlas ? MaxRelativeDifference(operands.OursC, operands.OpenBlasC) : 0;
        return new Measurement(shape, threads, shape.Flops / oursBest / 1e9, haveOpenBlas ? shape.Flops / openBlasBest / 1e9 : null, difference);
    }

    private static double Time(Action action, int calls)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < calls; i++) action();
        return Stopwatch.GetElapsedTime(start).TotalSeconds / calls;
    }

    private static void RunOurs(GemmShape s, Operands o, int threads)
        => CpuGemm.Multiply(s.TransposeA, s.TransposeB, s.M, s.N, s.K, 1f, o.A, o.B, 0f, o.OursC, threads);

    private static void RunOpenBlas(GemmShape s, Operands o)
        => OpenBlas.Multiply(s.TransposeA, s.TransposeB, s.M, s.N, s.K, 1f, o.A, o.B, 0f, o.OpenBlasC);

    private static double MaxRelativeDifference(float[] ours, float[] theirs)
    {
        double worst = 0;
        for (int i = 0; i < ours.Length; i++)
            worst = Math.Max(worst, Math.Abs(ours[i] - theirs[i]) / Math.Max(1.0, Math.Abs(theirs[i])));
        return worst;
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static void Warn(string message, bool json, TextWriter output) =>
        output.WriteLine(json ? JsonSerializer.Serialize(new Dictionary<string, string> { ["warning"] = message }, JsonOptions) : message);

    private static void Print(Measurement r, bool json, TextWriter output)
    {
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["shape"] = r.Shape.Name,
                ["m"] = r.Shape.M,
                ["n"] = r.Shape.N,
                ["k"] = r.Shape.K,
                ["transpose_a"] = r.Shape.TransposeA,
                ["transpose_b"] = r.Shape.TransposeB,
                ["threads"] = r.Threads,
                ["ours_gflops"] = Math.Round(r.OursGflops, 2),
                ["openblas_gflops"] = r.OpenBlasGflops is { } peer ? Math.Round(peer, 2) : null,
                ["ratio"] = r.OpenBlasGflops is { } p ? Math.Round(r.OursGflops / p, 3) : null,
                ["max_relative_difference"] = r.MaxRelativeDifference,
            }, JsonOptions));
            return;
        }
        string peerText = r.OpenBlasGflops is { } gflops ? gflops.ToString("F1", CultureInfo.InvariantCulture) : "-";
        string ratioText = r.OpenBlasGflops is { } g ? (r.OursGflops / g).ToString("F2", CultureInfo.InvariantCulture) : "-";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{r.Shape.Name,-31} {r.Threads,7} {r.OursGflops,13:F1} {peerText,17} {ratioText,6}"));
        if (r.MaxRelativeDifference > 1e-3)
            output.WriteLine($"  warning: ours and OpenBLAS differ by {r.MaxRelativeDifference:g3} (relative) on this shape.");
    }
}

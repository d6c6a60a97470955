using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ParallelNet.Tensors;
using ParallelNet.Tensors.Cpu.Gemm;
using ParallelNet.Tensors.OpenCL;

namespace ParallelNet.Cli.Bench;

/// <summary>
/// <c>parallelnet bench gemm --device opencl[:N]</c>: GFLOP/s of CLBlast through <see cref="OpenClCompute"/>
/// beside the CPU backend's GEMM on the same shapes, measured interleaved in one process. Operands stay on
/// the device; each timed round ends with a queue finish, so the figure includes launch overhead.
/// </summary>
public static class OpenClGemmBenchmark
{
    private const double RoundSeconds = 0.05;

    private sealed record GemmShape(string Name, bool TransposeA, bool TransposeB, int M, int N, int K)
    {
        public double Flops => 2.0 * M * N * K;
    }

    public static int Run(string device, GemmBenchmarkOptions options, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Repeats <= 0) throw new ArgumentException($"bench gemm: --repeats must be positive, got {options.Repeats}.");
        int cpuThreads = options.Threads.Count == 0 ? Environment.ProcessorCount : options.Threads.Max();
        if (cpuThreads <= 0) throw new ArgumentException("bench gemm: --threads needs positive thread counts.");
        using var gpu = ComputeDevices.Create(device, 0) as OpenClCompute
            ?? throw new ArgumentException($"bench gemm: --device {device} is not an OpenCL device; use opencl or opencl:N (or omit --device for the CPU benchmark).");
        if (!options.Json)
        {
            output.WriteLine($"GEMM benchmark: {gpu.Name} (CLBlast) vs the CPU backend at {cpuThreads} thread(s), best of {options.Repeats} rounds");
            output.WriteLine($"{"shape",-34} {"OpenCL GFLOP/s",15} {"CPU GFLOP/s",12} {"ratio",6}");
        }
        foreach (var shape in Shapes(options.Batches))
        {
            var a = RandomValues(shape.M * shape.K, 1);
            var b = RandomValues(shape.K * shape.N, 2);
            var cpuC = new float[shape.M * shape.N];
            var (da, db, dc) = (Upload(gpu, a), Upload(gpu, b), gpu.Allocate(new Shape(shape.M * shape.N)));
            void RunGpu() => gpu.Gemm(shape.TransposeA, shape.TransposeB, shape.M, shape.N, shape.K, 1f, da, db, 0f, dc);
            void RunCpu() => CpuGemm.Multiply(shape.TransposeA, shape.TransposeB, shape.M, shape.N, shape.K, 1f, a, b, 0f, cpuC, cpuThreads);
            // The first OpenCL call compiles CLBlast's kernels (seconds on POCL); keep it out of the timing.
            RunGpu();
            gpu.Synchronize();
            int gpuCalls = Calls(gpu, RunGpu, shape), cpuCalls = Math.Max(1, (int)(RoundSeconds * 30e9 / shape.Flops));
            double gpuBest = double.MaxValue, cpuBest = double.MaxValue;
            for (int round = 0; round < options.Repeats; round++)
            {
                gpuBest = Math.Min(gpuBest, Time(gpu, RunGpu, gpuCalls));
                cpuBest = Math.Min(cpuBest, Time(null, RunCpu, cpuCalls));
            }
            var gpuC = new float[cpuC.Length];
            gpu.Download(dc, gpuC);
            double difference = 0;
            for (int i = 0; i < cpuC.Length; i++) difference = Math.Max(difference, Math.Abs(cpuC[i] - gpuC[i]) / Math.Max(1.0, Math.Abs(cpuC[i])));
            Print(shape, shape.Flops / gpuBest / 1e9, shape.Flops / cpuBest / 1e9, cpuThreads, difference, options.Json, output);
        }
        return 0;
    }

    private static List<GemmShape> Shapes(IReadOnlyList<int> batches)
    {
        (int In, int Out)[] layers = [(784, 512), (512, 512), (512, 10)];
        var shapes = new List<GemmShape>();
        foreach (int batch in batches.Take(1))
        {
            foreach (var (inputs, outputs) in layers)
            {
                shapes.Add(new GemmShape($"fwd  B={batch} {inputs}->{outputs} (X W^T)", false, true, batch, outputs, inputs));
                shapes.Add(new GemmShape($"dW   B={batch} {inputs}->{outputs} (dY^T X)", true, false, outputs, inputs, batch));
            }
        }
        shapes.Add(new GemmShape("square 1024^3 (A B)", false, false, 1024, 1024, 1024));
        return shapes;
    }

    /// <summary>Enough calls for one round of about <see cref="RoundSeconds"/>, from one timed call.</summary>
    private static int Calls(OpenClCompute gpu, Action run, GemmShape shape)
    {
        double single = Time(gpu, run, 1);
        return (int)Math.Clamp(RoundSeconds / Math.Max(single, 1e-6), 1, 10_000);
    }

    private static double Time(OpenClCompute? gpu, Action action, int calls)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < calls; i++) action();
        gpu?.Synchronize();
        return Stopwatch.GetElapsedTime(start).TotalSeconds / calls;
    }

    private static Tensor Upload(OpenClCompute gpu, float[] data)
    {
        var t = gpu.Allocate(new Shape(data.Length));
        gpu.Upload(data, t);
        return t;
    }

    private static float[] RandomValues(int length, int seed)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }

    private static void Print(GemmShape shape, double gpuGflops, double cpuGflops, int threads, double difference, bool json, TextWriter output)
    {
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["shape"] = shape.Name,
                ["m"] = shape.M,
                ["n"] = shape.N,
                ["k"] = shape.K,
                ["transpose_a"] = shape.TransposeA,
                ["transpose_b"] = shape.TransposeB,
                ["opencl_gflops"] = Math.Round(gpuGflops, 2),
                ["cpu_gflops"] = Math.Round(cpuGflops, 2),
                ["cpu_threads"] = threads,
                ["ratio"] = Math.Round(gpuGflops / cpuGflops, 3),
                ["max_relative_difference"] = difference,
            }));
            return;
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{shape.Name,-34} {gpuGflops,15:F1} {cpuGflops,12:F1} {gpuGflops / cpuGflops,6:F2}"));
        if (difference > 1e-3) output.WriteLine($"  warning: OpenCL and CPU results differ by {difference:g3} (relative) on this shape.");
    }
}

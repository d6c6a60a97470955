namespace ParallelNet.Tensors.OpenCL.Tests;

/// <summary>
/// Runs one operation on the CPU backend and on the OpenCL backend with the same inputs, then
/// compares every operand afterwards (so in-place updates and accumulated outputs are checked too)
/// and the returned scalar.
/// </summary>
internal static class BackendComparison
{
    public delegate double Operation(ICompute compute, Tensor[] operands);

    /// <param name="tolerance">Per element: |gpu - cpu| &lt;= tolerance * (1 + |cpu|); 0 demands equal bits.</param>
    public static (float[][] Cpu, float[][] Gpu) Run(OpenClFixture fixture, (float[] Data, int[] Dims)[] operands, Operation operation, double tolerance, string what)
    {
        var cpuTensors = operands.Select(o => Tensor.FromArray((float[])o.Data.Clone(), new Shape(o.Dims))).ToArray();
        var gpu = fixture.Device;
        var gpuTensors = operands.Select(o =>
        {
            var t = gpu.Allocate(new Shape(o.Dims));
            gpu.Upload(o.Data, t);
            return t;
        }).ToArray();

        double cpuResult = operation(fixture.Cpu, cpuTensors);
        double gpuResult = operation(gpu, gpuTensors);

        var cpuData = cpuTensors.Select(t => t.Span.ToArray()).ToArray();
        var gpuData = gpuTensors.Select(t =>
        {
            var data = new float[t.Length];
            gpu.Download(t, data);
            return data;
        }).ToArray();
        for (int i = 0; i < operands.Length; i++) AssertClose(cpuData[i], gpuData[i], tolerance, $"{what}, operand {i}");
        if (!(Math.Abs(cpuResult - gpuResult) <= tolerance * (1 + Math.Abs(cpuResult))) && !(double.IsNaN(cpuResult) && double.IsNaN(gpuResult)))
            Assert.Fail($"{what}: returned {gpuResult:R} on OpenCL, {cpuResult:R} on the CPU (tolerance {tolerance}).");
        return (cpuData, gpuData);
    }

    public static void AssertClose(float[] expected, float[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            bool equal = tolerance == 0
                ? BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i])
                : Math.Abs(expected[i] - actual[i]) <= tolerance * (1 + Math.Abs(expected[i])) || float.IsNaN(expected[i]) && float.IsNaN(actual[i]);
            if (!equal) Assert.Fail($"{what}: element {i} is {actual[i]:R} on OpenCL, {expected[i]:R} on the CPU (tolerance {tolerance}).");
        }
    }

    public static float[] Uniform(int length, int seed, float low = -1f, float high = 1f)
    {
        var random = new System.Random(seed);
        var data = new float[length];
        for (int i = 0; i < length; i++) data[i] = low + (high - low) * random.NextSingle();
        return data;
    }

    public static float[] Labels(int rows, int classes, int seed)
    {
        var random = new System.Random(seed);
        return Enumerable.Range(0, rows).Select(_ => (float)random.Next(classes)).ToArray();
    }
}

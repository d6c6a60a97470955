using ParallelNet.Tensors.Random;
using static ParallelNet.Tensors.OpenCL.Tests.BackendComparison;

namespace ParallelNet.Tensors.OpenCL.Tests;

[Collection(OpenClCollection.Name)]
public class ActivationTests(OpenClFixture fixture)
{
    [OpenClTheory]
    [InlineData(ActivationKind.Identity, Tolerances.Bitwise)]
    [InlineData(ActivationKind.Relu, Tolerances.Bitwise)]
    [InlineData(ActivationKind.LeakyRelu, Tolerances.Bitwise)]
    [InlineData(ActivationKind.Step, Tolerances.Bitwise)]
    [InlineData(ActivationKind.Sigmoid, Tolerances.Transcendental)]
    [InlineData(ActivationKind.Tanh, Tolerances.Transcendental)]
    public void ForwardAndBackward_EqualTheCpu(ActivationKind kind, double tolerance)
    {
        foreach (var (rows, cols) in new[] { (1, 1), (5, 3), (33, 65) })
        {
            int n = rows * cols;
            var x = Uniform(n, n, -4f, 4f);
            x[0] = 0f; // the boundary of ReLU and step
            var (cpu, _) = Run(fixture, [(x, [rows, cols]), (new float[n], [rows, cols])],
                (c, t) => { c.ActivationForward(kind, 0.1f, t[0], t[1]); return 0; }, tolerance, $"{kind} forward {rows}x{cols}");
            // Backward from the CPU's forward output, so a forward difference does not leak into the comparison.
            Run(fixture, [(x, [rows, cols]), (cpu[1], [rows, cols]), (Uniform(n, 7), [rows, cols]), (new float[n], [rows, cols])],
                (c, t) => { c.ActivationBackward(kind, 0.1f, t[0], t[1], t[2], t[3]); return 0; }, Tolerances.Bitwise, $"{kind} backward {rows}x{cols}");
        }
    }

    [OpenClTheory]
    [InlineData(1, 1, 1)]
    [InlineData(3, 4, 7)]
    [InlineData(8, 2, 50)]
    public void PRelu_EqualsTheCpu(int samples, int channels, int inner)
    {
        int n = samples * channels * inner;
        var x = Uniform(n, n + 1, -2f, 2f);
        var slope = Uniform(channels, 2, 0f, 0.5f);
        int[] dims = [samples, channels, inner];
        Run(fixture, [(x, dims), (slope, [channels]), (new float[n], dims)], (c, t) => { c.PReluForward(t[0], t[1], t[2], channels); return 0; }, Tolerances.Bitwise, "PReluForward");
        Run(fixture, [(x, dims), (slope, [channels]), (Uniform(n, 5), dims), (new float[n], dims), (Uniform(channels, 6), [channels])],
            (c, t) => { c.PReluBackward(t[0], t[1], t[2], t[3], t[4], channels); return 0; }, Tolerances.Reduction, "PReluBackward");
    }

    [OpenClTheory]
    [InlineData(1, 1)]
    [InlineData(3, 5)]
    [InlineData(17, 129)]
    public void RRelu_SlopesAreBitwiseTheCpus(int samples, int perSample)
    {
        int n = samples * perSample;
        var stream = RandomStream.For(42, RandomPurpose.RRelu, 1, 2, 3);
        var x = Uniform(n, n, -1f, 1f);
        Run(fixture, [(x, [samples, perSample]), (new float[n], [samples, perSample]), (new float[n], [samples, perSample])],
            (c, t) => { c.RReluForwardTraining(t[0], t[1], t[2], 0.125f, 1f / 3f, stream, 1_000_000_007L); return 0; }, Tolerances.Bitwise, "RReluForwardTraining");
        Run(fixture, [(x, [n]), (Uniform(n, 3, 0.1f, 0.3f), [n]), (Uniform(n, 4), [n]), (new float[n], [n])],
            (c, t) => { c.RReluBackward(t[0], t[1], t[2], t[3]); return 0; }, Tolerances.Bitwise, "RReluBackward");
    }

    [OpenClTheory]
    [InlineData(1, 1, 0.5f)]
    [InlineData(4, 7, 0.2f)]
    [InlineData(128, 512, 0.5f)]
    [InlineData(3, 1000, 0f)]
    public void Dropout_MasksAreBitwiseTheCpus(int samples, int perSample, float p)
    {
        int n = samples * perSample;
        var stream = RandomStream.For(7, RandomPurpose.Dropout, 3, 141, 2);
        Run(fixture, [(Uniform(n, n), [samples, perSample]), (new float[n], [samples, perSample]), (new float[n], [samples, perSample])],
            (c, t) => { c.DropoutForward(t[0], t[1], t[2], p, stream, 5 * samples); return 0; }, Tolerances.Bitwise, $"Dropout p={p}");
    }

    [OpenClTheory]
    [InlineData(1, 1, 1)]
    [InlineData(3, 4, 2)]
    [InlineData(5, 7, 5)]
    public void Maxout_EqualsTheCpu(int rows, int units, int pieces)
    {
        var x = Uniform(rows * units * pieces, units, -1f, 1f);
        if (x.Length > 1) x[1] = x[0]; // a tie: the first piece wins on both backends
        Run(fixture, [(x, [rows, units * pieces]), (new float[rows * units], [rows, units])], (c, t) => { c.MaxoutForward(t[0], t[1], pieces); return 0; }, Tolerances.Bitwise, "MaxoutForward");
        Run(fixture, [(x, [rows, units * pieces]), (Uniform(rows * units, 3), [rows, units]), (Uniform(x.Length, 4), [rows, units * pieces])],
            (c, t) => { c.MaxoutBackward(t[0], t[1], t[2], pieces); return 0; }, Tolerances.Bitwise, "MaxoutBackward");
    }
}

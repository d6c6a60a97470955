using ParallelNet.Tensors.Random;
using static ParallelNet.Tensors.OpenCL.Tests.BackendComparison;

namespace ParallelNet.Tensors.OpenCL.Tests;

/// <summary>
/// The operations of a training step on shapes drawn at random (seeded, so a failure names a reproducible
/// case), against the CPU backend within each operation's stated tolerance. The fixed-shape tests cover the
/// edge cases; these catch shapes nobody thought to write down.
/// </summary>
[Collection(OpenClCollection.Name)]
public class RandomShapeTests(OpenClFixture fixture)
{
    public static TheoryData<int> Seeds => [1, 2, 3, 4, 5, 6, 7, 8];

    [OpenClTheory]
    [MemberData(nameof(Seeds))]
    public void DenseOps_OnRandomShapes_EqualTheCpu(int seed)
    {
        var random = new System.Random(seed);
        int m = random.Next(1, 70), n = random.Next(1, 70), k = random.Next(1, 90);
        bool ta = random.Next(2) == 1, tb = random.Next(2) == 1;
        string shape = $"seed {seed}: m={m} n={n} k={k} ta={ta} tb={tb}";
        Run(fixture, [(Uniform(m * k, seed), [m * k]), (Uniform(k * n, seed + 1), [k * n]), (Uniform(m * n, seed + 2), [m * n])],
            (c, t) => { c.Gemm(ta, tb, m, n, k, 1.5f, t[0], t[1], 0.5f, t[2]); return 0; }, Tolerances.Gemm, $"Gemm {shape}");

        int[] dims = [m, n];
        var x = Uniform(m * n, seed + 3, -4f, 4f);
        Run(fixture, [(x, dims), (Uniform(m * n, seed + 4), dims), (new float[m * n], dims)],
            (c, t) => { c.Add(t[0], t[1], t[2]); c.Multiply(t[2], t[0], t[1]); c.Axpy(0.3f, t[1], t[2]); return 0; }, Tolerances.Bitwise, $"elementwise {shape}");
        Run(fixture, [(x, dims), (new float[m * n], dims)], (c, t) => { c.ActivationForward(ActivationKind.Relu, 0f, t[0], t[1]); return 0; }, Tolerances.Bitwise, $"relu {shape}");
        Run(fixture, [(x, dims), (new float[m * n], dims)], (c, t) => { c.ActivationForward(ActivationKind.Tanh, 0f, t[0], t[1]); return 0; }, Tolerances.Transcendental, $"tanh {shape}");
        Run(fixture, [(x, dims), (Labels(m, n, seed), [m]), (new float[m * n], dims)],
            (c, t) => c.SoftmaxCrossEntropy(t[0], t[1], t[2], 1f / m), Tolerances.FloatRowSum, $"softmax cross-entropy {shape}");
        Run(fixture, [(x, dims), (new float[m * n], dims), (new float[m * n], dims)],
            (c, t) => { c.DropoutForward(t[0], t[1], t[2], 0.3f, RandomStream.For((ulong)seed, RandomPurpose.Dropout, 1), seed); return 0; }, Tolerances.Bitwise, $"dropout {shape}");
    }

    [OpenClTheory]
    [MemberData(nameof(Seeds))]
    public void ImageOps_OnRandomShapes_EqualTheCpu(int seed)
    {
        var random = new System.Random(seed);
        int samples = random.Next(1, 5), channels = random.Next(1, 5), outC = random.Next(1, 6);
        int kh = random.Next(1, 4), kw = random.Next(1, 4), pad = random.Next(0, 2), stride = random.Next(1, 3);
        int h = random.Next(Math.Max(kh, 2), 12), w = random.Next(Math.Max(kw, 2), 12);
        var g = new ConvGeometry(channels, h, w, kh, kw, stride, stride, pad, pad);
        string shape = $"seed {seed}: {samples}x{channels}x{h}x{w}, kernel {kh}x{kw}, stride {stride}, pad {pad}, out {outC}";
        int[] xDims = [samples, channels, h, w], yDims = [samples, outC, g.OutHeight, g.OutWidth], wDims = [outC, channels, kh, kw];
        int xSize = samples * channels * h * w, ySize = samples * outC * g.OutHeight * g.OutWidth, wSize = outC * channels * kh * kw;
        var x = Uniform(xSize, seed);
        Run(fixture, [(x, xDims), (Uniform(wSize, seed + 1), wDims), (Uniform(outC, seed + 2), [outC]), (new float[ySize], yDims)],
            (c, t) => { c.Conv2dForward(t[0], t[1], t[2], t[3], g, outC); return 0; }, Tolerances.Gemm, $"Conv2dForward {shape}");
        Run(fixture, [(x, xDims), (Uniform(ySize, seed + 3), yDims), (new float[wSize], wDims), (new float[outC], [outC])],
            (c, t) => { c.Conv2dBackwardFilter(t[0], t[1], t[2], t[3], g, outC); return 0; }, Tolerances.Gemm, $"Conv2dBackwardFilter {shape}");

        var pool = g with { PadHeight = Math.Min(pad, kh / 2), PadWidth = Math.Min(pad, kw / 2) };
        int[] pDims = [samples, channels, pool.OutHeight, pool.OutWidth];
        int pSize = samples * channels * pool.OutHeight * pool.OutWidth;
        Run(fixture, [(x, xDims), (Uniform(pSize, seed + 4), pDims), (new float[xSize], xDims), (new float[pSize], pDims)],
            (c, t) => { c.MaxPool2dForward(t[0], t[3], pool); c.MaxPool2dBackward(t[0], t[1], t[2], pool); return 0; }, Tolerances.Bitwise, $"max pooling {shape}");

        int inner = h * w;
        int[] c1 = [channels], bnDims = [samples, channels, inner];
        Run(fixture, [(x, bnDims), (Uniform(channels, seed + 5, 0.5f, 1.5f), c1), (Uniform(channels, seed + 6), c1), (new float[xSize], bnDims),
                (new float[channels], c1), (new float[channels], c1), (new float[channels], c1)],
            (c, t) => { c.BatchNormForwardTraining(t[0], t[1], t[2], t[3], t[4], t[5], t[6], channels, 1e-5f); return 0; }, Tolerances.Reduction, $"batch norm {shape}");
    }
}

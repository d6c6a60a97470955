using static ParallelNet.Tensors.OpenCL.Tests.BackendComparison;

namespace ParallelNet.Tensors.OpenCL.Tests;

[Collection(OpenClCollection.Name)]
public class ConvolutionAndPoolingTests(OpenClFixture fixture)
{
    // samples, channels, height, width, kernel h, kernel w, stride h, stride w, pad h, pad w, out channels
    public static TheoryData<int[]> Convolutions => new()
    {
        new[] { 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1 },
        new[] { 2, 1, 5, 5, 3, 3, 1, 1, 1, 1, 4 },
        new[] { 3, 3, 7, 6, 3, 2, 2, 1, 1, 0, 5 },
        new[] { 2, 4, 9, 9, 5, 5, 3, 3, 2, 2, 3 },
        new[] { 5, 2, 8, 8, 3, 3, 1, 1, 0, 0, 7 },
    };

    [OpenClTheory]
    [MemberData(nameof(Convolutions))]
    public void Conv2d_ForwardAndBothBackwardPasses_EqualTheCpu(int[] s)
    {
        var g = new ConvGeometry(s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9]);
        int samples = s[0], outC = s[10];
        int[] xDims = [samples, g.Channels, g.Height, g.Width], yDims = [samples, outC, g.OutHeight, g.OutWidth], wDims = [outC, g.Channels, g.KernelHeight, g.KernelWidth];
        int xSize = xDims.Aggregate(1, (a, b) => a * b), ySize = yDims.Aggregate(1, (a, b) => a * b), wSize = wDims.Aggregate(1, (a, b) => a * b);
        var x = Uniform(xSize, xSize);
        var w = Uniform(wSize, wSize + 1);
        var dy = Uniform(ySize, ySize + 2);
        foreach (long workspace in new[] { 1L << 24, 1L })
        {
            // A one-float workspace forces one sample per chunk, so chunking is exercised on small shapes too.
            fixture.Device.ConvolutionWorkspaceFloats = workspace;
            try
            {
                Run(fixture, [(x, xDims), (w, wDims), (Uniform(outC, 3), [outC]), (new float[ySize], yDims)],
                    (c, t) => { c.Conv2dForward(t[0], t[1], t[2], t[3], g, outC); return 0; }, Tolerances.Gemm, $"Conv2dForward ws={workspace}");
                Run(fixture, [(x, xDims), (w, wDims), (new float[ySize], yDims)],
                    (c, t) => { c.Conv2dForward(t[0], t[1], null, t[2], g, outC); return 0; }, Tolerances.Gemm, $"Conv2dForward no bias ws={workspace}");
                Run(fixture, [(dy, yDims), (w, wDims), (Uniform(xSize, 4), xDims)],
                    (c, t) => { c.Conv2dBackwardData(t[0], t[1], t[2], g, outC); return 0; }, Tolerances.Gemm, $"Conv2dBackwardData ws={workspace}");
                Run(fixture, [(x, xDims), (dy, yDims), (Uniform(wSize, 5), wDims), (Uniform(outC, 6), [outC])],
                    (c, t) => { c.Conv2dBackwardFilter(t[0], t[1], t[2], t[3], g, outC); return 0; }, Tolerances.Gemm, $"Conv2dBackwardFilter ws={workspace}");
            }
            finally
            {
                fixture.Device.ConvolutionWorkspaceFloats = 1L << 24;
            }
        }
    }

    // samples, channels, height, width, kernel h, kernel w, stride h, stride w, pad h, pad w
    public static TheoryData<int[]> Pools => new()
    {
        new[] { 1, 1, 1, 1, 1, 1, 1, 1, 0, 0 },
        new[] { 2, 3, 8, 8, 2, 2, 2, 2, 0, 0 },
        new[] { 2, 2, 7, 5, 3, 3, 2, 2, 1, 1 },
        new[] { 1, 3, 6, 9, 3, 2, 1, 1, 1, 0 },
        new[] { 3, 1, 11, 11, 5, 4, 3, 2, 2, 2 },
    };

    [OpenClTheory]
    [MemberData(nameof(Pools))]
    public void Pooling_EqualsTheCpuBitwise(int[] s)
    {
        var g = new ConvGeometry(s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9]);
        int[] xDims = [s[0], g.Channels, g.Height, g.Width], yDims = [s[0], g.Channels, g.OutHeight, g.OutWidth];
        int xSize = xDims.Aggregate(1, (a, b) => a * b), ySize = yDims.Aggregate(1, (a, b) => a * b);
        // Coarse values make ties common, which is where the first-maximum rule matters.
        var x = Uniform(xSize, xSize).Select(v => MathF.Round(v * 3f)).ToArray();
        var dy = Uniform(ySize, ySize);
        Run(fixture, [(x, xDims), (new float[ySize], yDims)], (c, t) => { c.MaxPool2dForward(t[0], t[1], g); return 0; }, Tolerances.Bitwise, "MaxPool2dForward");
        Run(fixture, [(x, xDims), (dy, yDims), (Uniform(xSize, 3), xDims)], (c, t) => { c.MaxPool2dBackward(t[0], t[1], t[2], g); return 0; }, Tolerances.Bitwise, "MaxPool2dBackward");
        Run(fixture, [(x, xDims), (new float[ySize], yDims)], (c, t) => { c.AvgPool2dForward(t[0], t[1], g); return 0; }, Tolerances.Bitwise, "AvgPool2dForward");
        Run(fixture, [(dy, yDims), (Uniform(xSize, 4), xDims)], (c, t) => { c.AvgPool2dBackward(t[0], t[1], g); return 0; }, Tolerances.Bitwise, "AvgPool2dBackward");
    }

    [OpenClFact]
    public void MaxPool_NaNWinsItsWindow_AsOnTheCpu()
    {
        var g = new ConvGeometry(1, 2, 2, 2, 2, 2, 2, 0, 0);
        Run(fixture, [([1f, float.NaN, 3f, 2f], [1, 1, 2, 2]), (new float[1], [1, 1, 1, 1])],
            (c, t) => { c.MaxPool2dForward(t[0], t[1], g); return 0; }, Tolerances.Bitwise, "MaxPool NaN");
    }
}

using ParallelNet.Tensors.Cpu;
using ParallelNet.Tensors.Cpu.Kernels;
using ParallelNet.Tensors.Cpu.Kernels.Naive;

namespace ParallelNet.Tensors.Tests.Kernels;

public class ConvolutionTests
{
    // samples, channels, height, width, outChannels, kh, kw, strideH, strideW, padH, padW
    public static IEnumerable<object[]> Geometries => new int[][]
    {
        [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0],
        [1, 1, 3, 3, 1, 3, 3, 1, 1, 0, 0],
        [2, 3, 7, 5, 4, 3, 2, 2, 1, 1, 0],
        [3, 2, 6, 6, 5, 3, 3, 2, 2, 2, 2],
        [2, 4, 9, 9, 3, 1, 1, 1, 1, 0, 0],
        [2, 3, 8, 7, 2, 2, 4, 2, 3, 1, 2],
        [5, 1, 28, 28, 8, 3, 3, 1, 1, 1, 1],
        [3, 8, 14, 14, 16, 3, 3, 1, 1, 1, 1],
        [2, 2, 5, 9, 3, 5, 1, 1, 2, 2, 0],
        [1, 3, 4, 4, 2, 4, 4, 3, 3, 2, 2],
        // Patches narrower than the output channels take the transposed or the dot-product filter-gradient path.
        [3, 1, 10, 9, 16, 3, 3, 1, 1, 1, 1],
        [2, 1, 5, 5, 6, 2, 2, 2, 1, 0, 1],
        // Stride 1 with output width = input width takes the block-copy im2col/col2im path, incl. odd kernels and all-padding rows.
        [2, 2, 6, 5, 3, 5, 3, 1, 1, 0, 1],
        [1, 2, 4, 3, 2, 1, 5, 1, 1, 2, 2],
        [2, 3, 1, 7, 2, 3, 3, 1, 1, 1, 1],
        // Stride 1 without padding takes the vector-row im2col/col2im path: rows shorter than, equal to and longer than a vector.
        [2, 3, 13, 13, 5, 3, 3, 1, 1, 0, 0],
        [1, 2, 6, 12, 3, 3, 5, 1, 1, 0, 0],
        [2, 2, 9, 27, 3, 2, 3, 1, 1, 0, 0],
        // More samples than one filter-gradient group (16), on each filter-gradient path: GEMM panels,
        // transposed (narrow patch, short plane), dot products (narrow patch, plane of 64 or more).
        [37, 2, 7, 6, 3, 3, 3, 1, 1, 0, 0],
        [35, 1, 6, 6, 16, 3, 3, 1, 1, 0, 0],
        [35, 1, 12, 12, 16, 3, 3, 1, 1, 0, 0],
        [18, 1, 28, 28, 32, 3, 3, 1, 1, 0, 0],
        // One input channel, 3x3, stride 1, unpadded: the direct forward (output rows of 8, 9 and 13 floats).
        [2, 1, 10, 10, 3, 3, 3, 1, 1, 0, 0],
        [3, 1, 6, 11, 5, 3, 3, 1, 1, 0, 0],
        [2, 1, 4, 15, 2, 3, 3, 1, 1, 0, 0],
    }.Select(dims => new object[] { dims });

    [Theory]
    [MemberData(nameof(Geometries))]
    public void ForwardAndBothBackwards_MatchNaiveTwin_AndAreBitwiseEqualForOneAndTwoThreads(int[] dims)
    {
        var (n, c, h, w, outC) = (dims[0], dims[1], dims[2], dims[3], dims[4]);
        var (kh, kw, sh, sw, ph, pw) = (dims[5], dims[6], dims[7], dims[8], dims[9], dims[10]);
        var g = new ConvGeometry(c, h, w, kh, kw, sh, sw, ph, pw);
        int oh = g.OutHeight, ow = g.OutWidth;
        int seed = dims.Aggregate(17, (acc, d) => acc * 31 + d);
        var x = TestData.Uniform(n * c * h * w, seed);
        var weight = TestData.Uniform(outC * c * kh * kw, seed + 1);
        var bias = TestData.Uniform(outC, seed + 2);
        var dy = TestData.Uniform(n * outC * oh * ow, seed + 3);
        var initialDweight = TestData.Uniform(weight.Length, seed + 4);
        var initialDbias = TestData.Uniform(outC, seed + 5);
        float tolerance = 2e-5f * MathF.Sqrt(c * kh * kw * Math.Max(1, n * oh * ow));

        var expectedY = new float[n * outC * oh * ow];
        NaiveConvolution.Forward(x, weight, bias, expectedY, g, outC);
        var expectedDx = new float[x.Length];
        NaiveConvolution.BackwardData(dy, weight, expectedDx, g, outC);
        var expectedDweight = (float[])initialDweight.Clone();
        var expectedDbias = (float[])initialDbias.Clone();
        NaiveConvolution.BackwardFilter(x, dy, expectedDweight, expectedDbias, g, outC);

        float[]? previous = null;
        foreach (int threads in new[] { 1, 2 })
        {
            var compute = new CpuCompute(threads);
            var y = new float[expectedY.Length];
            var dx = new float[x.Length];
            var dweight = (float[])initialDweight.Clone();
            var dbias = (float[])initialDbias.Clone();
            compute.Conv2dForward(TestData.Tensor(x, n, c, h, w), TestData.Tensor(weight, outC, c, kh, kw), TestData.Tensor(bias, outC), TestData.Tensor(y, n, outC, oh, ow), g, outC);
            compute.Conv2dBackwardData(TestData.Tensor(dy, n, outC, oh, ow), TestData.Tensor(weight, outC, c, kh, kw), TestData.Tensor(dx, n, c, h, w), g, outC);
            compute.Conv2dBackwardFilter(TestData.Tensor(x, n, c, h, w), TestData.Tensor(dy, n, outC, oh, ow), TestData.Tensor(dweight, outC, c, kh, kw), TestData.Tensor(dbias, outC), g, outC);

            TestData.AssertClose(expectedY, y, 1e-5f * c * kh * kw, 1e-5f, "forward");
            TestData.AssertClose(expectedDx, dx, 1e-5f * outC * kh * kw, 1e-5f, "backward data");
            TestData.AssertClose(expectedDweight, dweight, tolerance, 1e-5f, "backward filter");
            TestData.AssertClose(expectedDbias, dbias, tolerance, 1e-5f, "backward bias");

            float[] all = [.. y, .. dx, .. dweight, .. dbias];
            if (previous is not null) TestData.AssertBitwiseEqual(previous, all, $"threads {threads}");
            previous = all;
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void DirectThreeByThreeForward_EqualsIm2ColAndGemm_Bitwise(bool withBias)
    {
        var g = new ConvGeometry(1, 28, 28, 3, 3, 1, 1, 0, 0);
        const int outC = 32;
        Assert.True(Cpu.Internal.DirectConvolution3x3.Applies(g));
        var x = TestData.Uniform(784, 11);
        var weight = TestData.Uniform(outC * 9, 12);
        float[] bias = withBias ? TestData.Uniform(outC, 13) : [];
        var direct = new float[outC * 26 * 26];
        Cpu.Internal.DirectConvolution3x3.ForwardSample(x, weight, bias, direct, g, outC);

        var columns = new float[Convolution.ColumnsLength(g)];
        Convolution.Im2Col(x, g, columns);
        var viaGemm = new float[direct.Length];
        Cpu.Gemm.CpuGemm.Multiply(false, false, outC, 26 * 26, 9, 1f, weight, columns, 0f, viaGemm, 1);
        if (withBias) Elementwise.AddChannelBias(viaGemm, bias, outC, 26 * 26);
        TestData.AssertBitwiseEqual(viaGemm, direct, "direct vs im2col + GEMM");
    }

    [Fact]
    public void Forward_WithoutBias_EqualsNaiveTwinWithoutBias()
    {
        var g = new ConvGeometry(2, 5, 5, 3, 3, 1, 1, 1, 1);
        var x = TestData.Uniform(3 * 2 * 5 * 5, 7);
        var weight = TestData.Uniform(4 * 2 * 9, 8);
        var expected = new float[3 * 4 * 25];
        NaiveConvolution.Forward(x, weight, ReadOnlySpan<float>.Empty, expected, g, 4);
        var y = new float[expected.Length];
        new CpuCompute(1).Conv2dForward(TestData.Tensor(x, 3, 2, 5, 5), TestData.Tensor(weight, 4, 2, 3, 3), null, TestData.Tensor(y, 3, 4, 5, 5), g, 4);
        TestData.AssertClose(expected, y, 1e-5f, 1e-5f);
    }

    [Fact]
    public void Forward_MatchesPyTorch_OnASmallStridedPaddedCase()
    {
        // torch.nn.functional.conv2d(torch.arange(16.).view(1,1,4,4), torch.tensor([[[[1.,0.],[0.,-1.]]]]), torch.tensor([0.5]), stride=2, padding=1)
        var g = new ConvGeometry(1, 4, 4, 2, 2, 2, 2, 1, 1);
        var x = Enumerable.Range(0, 16).Select(i => (float)i).ToArray();
        var y = new float[9];
        new CpuCompute(1).Conv2dForward(TestData.Tensor(x, 1, 1, 4, 4), TestData.Tensor([1f, 0f, 0f, -1f], 1, 1, 2, 2), TestData.Tensor([0.5f], 1), TestData.Tensor(y, 1, 1, 3, 3), g, 1);
        Assert.Equal([0.5f, -1.5f, 0.5f, -7.5f, -4.5f, 7.5f, 0.5f, 13.5f, 15.5f], y);
    }

    [Fact]
    public void MismatchedWeight_ThrowsNamingTheOperationAndShape()
    {
        var g = new ConvGeometry(2, 5, 5, 3, 3, 1, 1, 1, 1);
        var error = Assert.Throws<ArgumentException>(() => new CpuCompute(1).Conv2dForward(
            Tensor.Zeros(1, 2, 5, 5), Tensor.Zeros(4, 2, 3, 2), null, Tensor.Zeros(1, 4, 5, 5), g, 4));
        Assert.Contains("Conv2dForward", error.Message);
        Assert.Contains("[4, 2, 3, 3]", error.Message);
    }
}

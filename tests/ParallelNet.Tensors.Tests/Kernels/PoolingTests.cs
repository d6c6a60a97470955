using ParallelNet.Tensors.Cpu;
using ParallelNet.Tensors.Cpu.Kernels.Naive;

namespace ParallelNet.Tensors.Tests.Kernels;

public class PoolingTests
{
    // samples, channels, height, width, kh, kw, strideH, strideW, padH, padW
    public static IEnumerable<object[]> Geometries => new int[][]
    {
        [1, 1, 1, 1, 1, 1, 1, 1, 0, 0],
        [2, 3, 4, 4, 2, 2, 2, 2, 0, 0],
        [3, 2, 7, 5, 3, 3, 2, 2, 1, 1],
        [1, 4, 9, 8, 3, 2, 1, 2, 1, 1],
        [2, 1, 6, 7, 4, 5, 3, 2, 2, 2],
        [5, 3, 28, 28, 2, 2, 2, 2, 0, 0],
        [1, 2, 5, 5, 5, 5, 1, 1, 2, 2],
        // 2x2 stride 2 with rows wide enough for whole 16-window vectors, even and odd.
        [2, 2, 6, 40, 2, 2, 2, 2, 0, 0],
        [1, 2, 7, 35, 2, 2, 2, 2, 0, 0],
    }.Select(dims => new object[] { dims });

    [Theory]
    [MemberData(nameof(Geometries))]
    public void MaxAndAverage_MatchNaiveTwin_AndAreBitwiseEqualForOneAndTwoThreads(int[] dims)
    {
        var (n, c, h, w) = (dims[0], dims[1], dims[2], dims[3]);
        var g = new ConvGeometry(c, h, w, dims[4], dims[5], dims[6], dims[7], dims[8], dims[9]);
        int seed = dims.Aggregate(3, (acc, d) => acc * 31 + d);
        // Coarse values make ties common, which exercises the first-maximum rule.
        var x = TestData.Uniform(n * c * h * w, seed).Select(v => MathF.Round(v * 4) / 4).ToArray();
        var dy = TestData.Uniform(n * c * g.OutHeight * g.OutWidth, seed + 1);
        int[] xShape = [n, c, h, w], yShape = [n, c, g.OutHeight, g.OutWidth];

        var expectedMax = new float[dy.Length];
        var expectedAvg = new float[dy.Length];
        var expectedMaxDx = new float[x.Length];
        var expectedAvgDx = new float[x.Length];
        NaivePooling.MaxForward(x, expectedMax, g);
        NaivePooling.AvgForward(x, expectedAvg, g);
        NaivePooling.MaxBackward(x, dy, expectedMaxDx, g);
        NaivePooling.AvgBackward(dy, expectedAvgDx, g);

        foreach (int threads in new[] { 1, 2 })
        {
            var compute = new CpuCompute(threads);
            var max = new float[dy.Length];
            var avg = new float[dy.Length];
            // Stale gradients must be overwritten, not accumulated into.
            var maxDx = TestData.Uniform(x.Length, seed + 2);
            var avgDx = TestData.Uniform(x.Length, seed + 3);
            compute.MaxPool2dForward(TestData.Tensor(x, xShape), TestData.Tensor(max, yShape), g);
            compute.AvgPool2dForward(TestData.Tensor(x, xShape), TestData.Tensor(avg, yShape), g);
            compute.MaxPool2dBackward(TestData.Tensor(x, xShape), TestData.Tensor(dy, yShape), TestData.Tensor(maxDx, xShape), g);
            compute.AvgPool2dBackward(TestData.Tensor(dy, yShape), TestData.Tensor(avgDx, xShape), g);

            TestData.AssertBitwiseEqual(expectedMax, max, $"max forward, {threads} threads");
            TestData.AssertClose(expectedMaxDx, maxDx, 1e-6f, 1e-6f, $"max backward, {threads} threads");
            TestData.AssertClose(expectedAvg, avg, 1e-6f, 1e-5f, $"average forward, {threads} threads");
            TestData.AssertClose(expectedAvgDx, avgDx, 1e-6f, 1e-5f, $"average backward, {threads} threads");
        }
    }

    [Theory]
    [InlineData(2, 2)]
    [InlineData(3, 3)]
    public void MaxPool_WithNaNsAndSignedZeroTies_IsBitwiseTheNaiveTwin(int kernel, int stride)
    {
        var g = new ConvGeometry(3, 8, 66, kernel, kernel, stride, stride, 0, 0);
        float[] palette = [0f, -0f, 1f, -1f, float.NaN, 2f];
        var random = new System.Random(5);
        var x = Enumerable.Range(0, 2 * 3 * 8 * 66).Select(_ => palette[random.Next(palette.Length)]).ToArray();
        var dy = TestData.Uniform(2 * 3 * g.OutHeight * g.OutWidth, 6);
        var (expected, expectedDx) = (new float[dy.Length], new float[x.Length]);
        NaivePooling.MaxForward(x, expected, g);
        NaivePooling.MaxBackward(x, dy, expectedDx, g);
        var (y, dx) = (new float[dy.Length], new float[x.Length]);
        int[] xShape = [2, 3, 8, 66], yShape = [2, 3, g.OutHeight, g.OutWidth];
        var compute = new CpuCompute(2);
        compute.MaxPool2dForward(TestData.Tensor(x, xShape), TestData.Tensor(y, yShape), g);
        compute.MaxPool2dBackward(TestData.Tensor(x, xShape), TestData.Tensor(dy, yShape), TestData.Tensor(dx, xShape), g);
        TestData.AssertBitwiseEqual(expected, y, "forward");
        TestData.AssertBitwiseEqual(expectedDx, dx, "backward");
    }

    [Fact]
    public void MaxBackward_RoutesTiesToTheFirstMaximum()
    {
        var g = new ConvGeometry(1, 2, 2, 2, 2, 2, 2, 0, 0);
        var dx = new float[4];
        new CpuCompute(1).MaxPool2dBackward(TestData.Tensor([1f, 3f, 3f, 3f], 1, 1, 2, 2), TestData.Tensor([5f], 1, 1, 1, 1), TestData.Tensor(dx, 1, 1, 2, 2), g);
        Assert.Equal([0f, 5f, 0f, 0f], dx);
    }

    [Fact]
    public void AverageWithPadding_MatchesPyTorchCountIncludePad()
    {
        // torch.nn.functional.avg_pool2d(torch.arange(1., 10.).view(1,1,3,3), 2, stride=2, padding=1)
        var g = new ConvGeometry(1, 3, 3, 2, 2, 2, 2, 1, 1);
        var y = new float[4];
        new CpuCompute(1).AvgPool2dForward(TestData.Tensor(Enumerable.Range(1, 9).Select(i => (float)i).ToArray(), 1, 1, 3, 3), TestData.Tensor(y, 1, 1, 2, 2), g);
        Assert.Equal([0.25f, 1.25f, 2.75f, 7f], y);
    }

    [Fact]
    public void PaddingLargerThanHalfTheWindow_IsRejectedWithAClearMessage()
    {
        var g = new ConvGeometry(1, 4, 4, 2, 2, 1, 1, 2, 2);
        var error = Assert.Throws<ArgumentException>(() => new CpuCompute(1).MaxPool2dForward(Tensor.Zeros(1, 1, 4, 4), Tensor.Zeros(1, 1, 7, 7), g));
        Assert.Contains("at most half the window", error.Message);
    }
}

using ParallelNet.Tensors.Cpu;
using ParallelNet.Tensors.Cpu.Kernels.Naive;

namespace ParallelNet.Tensors.Tests.Kernels;

public class ActivationTests
{
    private readonly CpuCompute _compute = new(2);

    public static IEnumerable<object[]> KindsAndLengths =>
        from kind in Enum.GetValues<ActivationKind>()
        from length in new[] { 1, 7, 33, 1000 }
        select new object[] { kind, length };

    [Theory]
    [MemberData(nameof(KindsAndLengths))]
    public void ForwardAndBackward_MatchNaiveTwin(ActivationKind kind, int length)
    {
        const float alpha = 0.07f;
        var x = TestData.Uniform(length, length * 13 + (int)kind, -6f, 6f);
        var dy = TestData.Uniform(length, length * 17 + (int)kind);
        var expectedY = x.Select(v => NaiveActivations.Apply(kind, alpha, v)).ToArray();
        var expectedDx = x.Select((v, i) => dy[i] * NaiveActivations.Derivative(kind, alpha, v)).ToArray();

        var y = new float[length];
        var dx = new float[length];
        _compute.ActivationForward(kind, alpha, TestData.Tensor(x, length), TestData.Tensor(y, length));
        _compute.ActivationBackward(kind, alpha, TestData.Tensor(x, length), TestData.Tensor(y, length), TestData.Tensor(dy, length), TestData.Tensor(dx, length));

        TestData.AssertClose(expectedY, y, 2e-6f, 2e-6f, "forward");
        TestData.AssertClose(expectedDx, dx, 2e-6f, 1e-5f, "backward");
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(3, 4, 5)]
    [InlineData(2, 7, 1)]
    public void PRelu_MatchesNaiveTwin(int samples, int channels, int inner)
    {
        int length = samples * channels * inner;
        var x = TestData.Uniform(length, length);
        var slope = TestData.Uniform(channels, length + 1, 0f, 0.5f);
        var dy = TestData.Uniform(length, length + 2);
        var initialDslope = TestData.Uniform(channels, length + 3);
        var expectedY = new float[length];
        var expectedDx = new float[length];
        var expectedDslope = (float[])initialDslope.Clone();
        NaiveActivations.PReluForward(x, slope, expectedY, channels, inner);
        NaiveActivations.PReluBackward(x, slope, dy, expectedDx, expectedDslope, channels, inner);

        var y = new float[length];
        var dx = new float[length];
        var dslope = (float[])initialDslope.Clone();
        int[] shape = [samples, channels, inner];
        _compute.PReluForward(TestData.Tensor(x, shape), TestData.Tensor(slope, channels), TestData.Tensor(y, shape), channels);
        _compute.PReluBackward(TestData.Tensor(x, shape), TestData.Tensor(slope, channels), TestData.Tensor(dy, shape), TestData.Tensor(dx, shape), TestData.Tensor(dslope, channels), channels);

        TestData.AssertBitwiseEqual(expectedY, y, "forward");
        TestData.AssertBitwiseEqual(expectedDx, dx, "backward");
        TestData.AssertClose(expectedDslope, dslope, 1e-6f, 1e-6f, "slope gradient");
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(4, 3, 2)]
    [InlineData(5, 10, 5)]
    public void Maxout_MatchesNaiveTwin_AndRoutesGradientToFirstMaximum(int rows, int units, int pieces)
    {
        var x = TestData.Uniform(rows * units * pieces, rows + units + pieces).Select(v => MathF.Round(v * 3)).ToArray();
        var dy = TestData.Uniform(rows * units, 5);
        var expected = new float[rows * units];
        NaiveActivations.MaxoutForward(x, expected, pieces);
        var y = new float[rows * units];
        var dx = new float[x.Length];
        _compute.MaxoutForward(TestData.Tensor(x, rows, units * pieces), TestData.Tensor(y, rows, units), pieces);
        _compute.MaxoutBackward(TestData.Tensor(x, rows, units * pieces), TestData.Tensor(dy, rows, units), TestData.Tensor(dx, rows, units * pieces), pieces);
        Assert.Equal(expected, y);
        for (int u = 0; u < rows * units; u++)
        {
            int first = Array.IndexOf(x, expected[u], u * pieces, pieces);
            for (int p = 0; p < pieces; p++)
                Assert.Equal(u * pieces + p == first ? dy[u] : 0f, dx[u * pieces + p]);
        }
    }

    [Fact]
    public void RRelu_MatchesNaiveTwin_AndDependsOnlyOnGlobalSampleIndex()
    {
        var stream = Random.RandomStream.For(9, Random.RandomPurpose.RRelu, 1, 2, 3);
        const int samples = 6, perSample = 7;
        var x = TestData.Uniform(samples * perSample, 11);
        var dy = TestData.Uniform(x.Length, 12);
        var expectedY = new float[x.Length];
        var expectedSlopes = new float[x.Length];
        NaiveRandomMasks.RReluForwardTraining(x, expectedY, expectedSlopes, 0.125f, 1f / 3f, stream, 40, samples);

        var y = new float[x.Length];
        var slopes = new float[x.Length];
        var dx = new float[x.Length];
        _compute.RReluForwardTraining(TestData.Tensor(x, samples, perSample), TestData.Tensor(y, samples, perSample), TestData.Tensor(slopes, samples, perSample), 0.125f, 1f / 3f, stream, 40);
        _compute.RReluBackward(TestData.Tensor(x, samples, perSample), TestData.Tensor(slopes, samples, perSample), TestData.Tensor(dy, samples, perSample), TestData.Tensor(dx, samples, perSample));
        TestData.AssertBitwiseEqual(expectedY, y, "forward");
        TestData.AssertBitwiseEqual(expectedSlopes, slopes, "slopes");
        for (int i = 0; i < x.Length; i++) Assert.Equal(x[i] > 0 ? dy[i] : dy[i] * slopes[i], dx[i]);
        Assert.All(slopes.Where((_, i) => x[i] <= 0), s => Assert.InRange(s, 0.125f, 1f / 3f));

        // The last two samples computed on their own (as another worker would) give the same values.
        var tailY = new float[2 * perSample];
        _compute.RReluForwardTraining(TestData.Tensor(x[(4 * perSample)..], 2, perSample), TestData.Tensor(tailY, 2, perSample), Tensor.Zeros(2, perSample), 0.125f, 1f / 3f, stream, 44);
        TestData.AssertBitwiseEqual(y.AsSpan(4 * perSample), tailY, "shard");
    }
}

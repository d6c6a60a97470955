using ParallelNet.Tensors.Cpu;
using ParallelNet.Tensors.Cpu.Kernels.Naive;

namespace ParallelNet.Tensors.Tests.Kernels;

public class ElementwiseAndOptimizerTests
{
    private readonly CpuCompute _compute = new(2);

    [Theory]
    [InlineData(1, 3)]
    [InlineData(2, 17)]
    [InlineData(4, 70_001)]
    [InlineData(8, 9_000)]
    public void AddTree_IsTheLevelByLevelSumBitwise(int count, int length)
    {
        // Past the 4096-float chunk and the two-thread split, so chunk edges and block edges are crossed.
        var values = Enumerable.Range(0, count + 1).Select(i => TestData.Uniform(length, 100 + i)).ToArray();
        var expected = values.Select(v => (float[])v.Clone()).ToArray();
        for (int width = 1; width < count; width *= 2)
            for (int left = 1; left < 1 + count; left += 2 * width)
                for (int e = 0; e < length; e++) expected[left][e] += expected[left + width][e];
        var tensors = values.Select(v => TestData.Tensor(v, length)).ToArray();
        _compute.AddTree(tensors, 1, count);
        for (int i = 0; i <= count; i++) TestData.AssertBitwiseEqual(expected[i], values[i], $"buffer {i} after the tree");
        Assert.Throws<ArgumentException>(() => _compute.AddTree(tensors, 1, 3));
        Assert.Throws<ArgumentException>(() => _compute.AddTree([tensors[0], TestData.Tensor(new float[length + 1], length + 1)], 0, 2));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(17)]
    [InlineData(1031)]
    public void ElementwiseOps_MatchScalarLoops(int length)
    {
        var a = TestData.Uniform(length, length);
        var b = TestData.Uniform(length, length + 1);
        var t = (float[] d) => TestData.Tensor(d, length);

        var y = new float[length];
        _compute.Add(t(a), t(b), t(y));
        TestData.AssertBitwiseEqual(a.Select((v, i) => v + b[i]).ToArray(), y, "add");
        _compute.Multiply(t(a), t(b), t(y));
        TestData.AssertBitwiseEqual(a.Select((v, i) => v * b[i]).ToArray(), y, "multiply");

        var axpy = (float[])b.Clone();
        _compute.Axpy(0.3f, t(a), t(axpy));
        TestData.AssertClose(a.Select((v, i) => 0.3f * v + b[i]).ToArray(), axpy, 1e-7f, 1e-6f, "axpy");

        var scaled = (float[])a.Clone();
        _compute.Scale(t(scaled), -2.5f);
        TestData.AssertBitwiseEqual(a.Select(v => v * -2.5f).ToArray(), scaled, "scale");

        var clamped = (float[])a.Clone();
        _compute.Clamp(t(clamped), -0.25f, 0.5f);
        TestData.AssertBitwiseEqual(a.Select(v => Math.Clamp(v, -0.25f, 0.5f)).ToArray(), clamped, "clamp");

        Assert.Equal(a.Sum(v => (double)v * v), _compute.SumOfSquares(t(a)), 1e-9);
        Assert.False(_compute.HasNonFinite(t(a)));
        foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            var withBad = (float[])a.Clone();
            withBad[length - 1] = bad;
            Assert.True(_compute.HasNonFinite(t(withBad)), $"{bad} at the last of {length} elements");
        }
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(7, 3, 5)]
    [InlineData(4, 16, 49)]
    public void Broadcasts_MatchScalarLoops(int samples, int channels, int inner)
    {
        int length = samples * channels * inner;
        var x = TestData.Uniform(length, length);
        var bias = TestData.Uniform(channels, length + 1);
        var initial = TestData.Uniform(channels, length + 2);

        var withChannelBias = (float[])x.Clone();
        _compute.AddChannelBias(TestData.Tensor(withChannelBias, samples, channels, inner), TestData.Tensor(bias, channels), channels);
        TestData.AssertBitwiseEqual(x.Select((v, i) => v + bias[i / inner % channels]).ToArray(), withChannelBias, "channel bias");

        var channelSums = (float[])initial.Clone();
        _compute.AccumulateChannelSums(TestData.Tensor(x, samples, channels, inner), TestData.Tensor(channelSums, channels), channels);
        var expectedChannelSums = initial.Select((v, c) => v + (float)x.Where((_, i) => i / inner % channels == c).Sum(e => (double)e)).ToArray();
        TestData.AssertClose(expectedChannelSums, channelSums, 1e-6f, 1e-6f, "channel sums");

        int cols = channels * inner;
        var rowBias = TestData.Uniform(cols, length + 3);
        var withRowBias = (float[])x.Clone();
        _compute.AddRowBias(TestData.Tensor(withRowBias, samples, cols), TestData.Tensor(rowBias, cols));
        TestData.AssertBitwiseEqual(x.Select((v, i) => v + rowBias[i % cols]).ToArray(), withRowBias, "row bias");

        var columnSums = TestData.Uniform(cols, length + 4);
        var expectedColumnSums = (float[])columnSums.Clone();
        for (int r = 0; r < samples; r++)
        for (int c = 0; c < cols; c++) expectedColumnSums[c] += x[r * cols + c];
        _compute.AccumulateColumnSums(TestData.Tensor(x, samples, cols), TestData.Tensor(columnSums, cols));
        TestData.AssertBitwiseEqual(expectedColumnSums, columnSums, "column sums");
    }

    [Theory]
    [InlineData(0f, 0f, false)]
    [InlineData(0.9f, 0f, false)]
    [InlineData(0.9f, 0.01f, true)]
    public void Sgd_MatchesNaiveTwinOverSeveralSteps(float momentum, float weightDecay, bool nesterov)
    {
        const int length = 37;
        var weights = TestData.Uniform(length, 1);
        var expected = (float[])weights.Clone();
        var velocity = new float[length];
        var expectedVelocity = new float[length];
        for (int step = 0; step < 4; step++)
        {
            var grad = TestData.Uniform(length, 10 + step);
            NaiveOptimizers.SgdStep(expected, grad, expectedVelocity, 0.05f, momentum, weightDecay, nesterov, step == 0);
            _compute.SgdStep(TestData.Tensor(weights, length), TestData.Tensor(grad, length), TestData.Tensor(velocity, length), 0.05f, momentum, weightDecay, nesterov, step == 0);
        }
        TestData.AssertClose(expected, weights, 1e-7f, 1e-6f, "weights");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void VectorizedUpdates_AreBitwiseTheScalarTail(bool adam)
    {
        // Element by element (spans of length 1) runs only the scalar loop; the whole span runs the vector loop.
        const int length = 45;
        var weights = TestData.Uniform(length, 3);
        var grad = TestData.Uniform(length, 4);
        var (first, second) = (TestData.Uniform(length, 5), TestData.Uniform(length, 6, 0f, 1f));
        var (w1, m1, v1) = ((float[])weights.Clone(), (float[])first.Clone(), (float[])second.Clone());
        void Step(Span<float> w, Span<float> g, Span<float> m, Span<float> v)
        {
            if (adam) ParallelNet.Tensors.Cpu.Kernels.Optimizers.AdamStep(w, g, m, v, 0.01f, 0.9f, 0.999f, 1e-8f, 0.1f, false, 3);
            else ParallelNet.Tensors.Cpu.Kernels.Optimizers.SgdStep(w, g, m, 0.05f, 0.9f, 0.01f, true, false);
        }
        Step(w1, grad, m1, v1);
        for (int i = 0; i < length; i++) Step(weights.AsSpan(i, 1), grad.AsSpan(i, 1), first.AsSpan(i, 1), second.AsSpan(i, 1));
        TestData.AssertBitwiseEqual(weights, w1, "weights");
        TestData.AssertBitwiseEqual(first, m1, "first moment or velocity");
    }

    [Theory]
    [InlineData(0f, false)]
    [InlineData(0.1f, false)]
    [InlineData(0.1f, true)]
    public void Adam_MatchesNaiveTwinOverSeveralSteps(float weightDecay, bool decoupled)
    {
        const int length = 37;
        var weights = TestData.Uniform(length, 2);
        var expected = (float[])weights.Clone();
        var (m, v, expectedM, expectedV) = (new float[length], new float[length], new float[length], new float[length]);
        for (int step = 1; step <= 4; step++)
        {
            var grad = TestData.Uniform(length, 20 + step);
            NaiveOptimizers.AdamStep(expected, grad, expectedM, expectedV, 0.01f, 0.9f, 0.999f, 1e-8f, weightDecay, decoupled, step);
            _compute.AdamStep(TestData.Tensor(weights, length), TestData.Tensor(grad, length), TestData.Tensor(m, length), TestData.Tensor(v, length), 0.01f, 0.9f, 0.999f, 1e-8f, weightDecay, decoupled, step);
        }
        TestData.AssertClose(expected, weights, 1e-7f, 1e-6f, "weights");
        TestData.AssertClose(expectedM, m, 1e-7f, 1e-6f, "first moment");
        TestData.AssertClose(expectedV, v, 1e-9f, 1e-6f, "second moment");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Updates_SplitAcrossThreads_AreBitwiseTheOneThreadKernel(bool adam)
    {
        // Past the parallel threshold with an odd length, so the split falls inside a vector and the tail is scalar.
        const int length = 70_001;
        var weights = TestData.Uniform(length, 7);
        var grad = TestData.Uniform(length, 8);
        var (first, second) = (TestData.Uniform(length, 9), TestData.Uniform(length, 10, 0f, 1f));
        var (w1, m1, v1) = ((float[])weights.Clone(), (float[])first.Clone(), (float[])second.Clone());
        if (adam)
        {
            ParallelNet.Tensors.Cpu.Kernels.Optimizers.AdamStep(w1, grad, m1, v1, 0.01f, 0.9f, 0.999f, 1e-8f, 0.1f, true, 5);
            new CpuCompute(3).AdamStep(TestData.Tensor(weights, length), TestData.Tensor(grad, length), TestData.Tensor(first, length), TestData.Tensor(second, length),
                0.01f, 0.9f, 0.999f, 1e-8f, 0.1f, true, 5);
        }
        else
        {
            ParallelNet.Tensors.Cpu.Kernels.Optimizers.SgdStep(w1, grad, m1, 0.05f, 0.9f, 0.01f, true, false);
            new CpuCompute(3).SgdStep(TestData.Tensor(weights, length), TestData.Tensor(grad, length), TestData.Tensor(first, length), 0.05f, 0.9f, 0.01f, true, false);
        }
        TestData.AssertBitwiseEqual(w1, weights, "weights");
        TestData.AssertBitwiseEqual(m1, first, "first moment or velocity");
        TestData.AssertBitwiseEqual(v1, second, "second moment");
    }
}

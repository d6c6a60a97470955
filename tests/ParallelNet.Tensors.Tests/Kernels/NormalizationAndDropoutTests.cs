using ParallelNet.Tensors.Cpu;
using ParallelNet.Tensors.Cpu.Kernels.Naive;
using ParallelNet.Tensors.Random;

namespace ParallelNet.Tensors.Tests.Kernels;

public class NormalizationAndDropoutTests
{
    private readonly CpuCompute _compute = new(2);

    [Theory]
    [InlineData(2, 1, 1)]
    [InlineData(5, 3, 1)]
    [InlineData(3, 4, 9)]
    [InlineData(1, 2, 5)]
    public void BatchNorm_TrainingForwardAndBackward_MatchNaiveTwin(int samples, int channels, int inner)
    {
        int length = samples * channels * inner, seed = length * 7 + channels;
        var x = TestData.Uniform(length, seed, -2f, 3f);
        var gamma = TestData.Uniform(channels, seed + 1, 0.5f, 1.5f);
        var beta = TestData.Uniform(channels, seed + 2);
        var dy = TestData.Uniform(length, seed + 3);
        var (expectedY, expectedMean, expectedInvStd, expectedVar) = (new float[length], new float[channels], new float[channels], new float[channels]);
        NaiveBatchNorm.ForwardTraining(x, gamma, beta, expectedY, expectedMean, expectedInvStd, expectedVar, channels, inner, 1e-5f);
        var (expectedDx, expectedDgamma, expectedDbeta) = (new float[length], TestData.Uniform(channels, seed + 4), TestData.Uniform(channels, seed + 5));
        var (dgamma, dbeta) = ((float[])expectedDgamma.Clone(), (float[])expectedDbeta.Clone());
        NaiveBatchNorm.Backward(x, dy, gamma, expectedMean, expectedInvStd, expectedDx, expectedDgamma, expectedDbeta, channels, inner);

        int[] shape = [samples, channels, inner];
        var (y, mean, invStd, variance, dx) = (new float[length], new float[channels], new float[channels], new float[channels], new float[length]);
        _compute.BatchNormForwardTraining(TestData.Tensor(x, shape), TestData.Tensor(gamma, channels), TestData.Tensor(beta, channels), TestData.Tensor(y, shape),
            TestData.Tensor(mean, channels), TestData.Tensor(invStd, channels), TestData.Tensor(variance, channels), channels, 1e-5f);
        _compute.BatchNormBackward(TestData.Tensor(x, shape), TestData.Tensor(dy, shape), TestData.Tensor(gamma, channels), TestData.Tensor(mean, channels), TestData.Tensor(invStd, channels),
            TestData.Tensor(dx, shape), TestData.Tensor(dgamma, channels), TestData.Tensor(dbeta, channels), channels);

        TestData.AssertClose(expectedY, y, 1e-5f, 1e-5f, "y");
        TestData.AssertClose(expectedMean, mean, 1e-6f, 1e-6f, "mean");
        TestData.AssertClose(expectedInvStd, invStd, 1e-6f, 1e-5f, "1/std");
        TestData.AssertClose(expectedVar, variance, 1e-6f, 1e-5f, "unbiased variance");
        TestData.AssertClose(expectedDx, dx, 1e-5f, 1e-4f, "dx");
        TestData.AssertClose(expectedDgamma, dgamma, 1e-5f, 1e-5f, "dgamma");
        TestData.AssertClose(expectedDbeta, dbeta, 1e-5f, 1e-5f, "dbeta");
    }

    [Fact]
    public void BatchNormAndChannelSums_AreBitwiseEqualForOneTwoAndThreeThreads()
    {
        const int samples = 4, channels = 7, inner = 10;
        int[] shape = [samples, channels, inner];
        var x = TestData.Uniform(samples * channels * inner, 31);
        var dy = TestData.Uniform(x.Length, 32);
        var gamma = TestData.Tensor(TestData.Uniform(channels, 33), channels);
        var beta = TestData.Tensor(TestData.Uniform(channels, 34), channels);
        float[]? previous = null;
        foreach (int threads in new[] { 1, 2, 3 })
        {
            var compute = new CpuCompute(threads);
            var (y, mean, invStd, variance) = (Tensor.Zeros(shape), Tensor.Zeros(channels), Tensor.Zeros(channels), Tensor.Zeros(channels));
            var (dx, dgamma, dbeta, sums, inference) = (Tensor.Zeros(shape), Tensor.Zeros(channels), Tensor.Zeros(channels), Tensor.Zeros(channels), Tensor.Zeros(shape));
            compute.BatchNormForwardTraining(TestData.Tensor(x, shape), gamma, beta, y, mean, invStd, variance, channels, 1e-5f);
            compute.BatchNormBackward(TestData.Tensor(x, shape), TestData.Tensor(dy, shape), gamma, mean, invStd, dx, dgamma, dbeta, channels);
            compute.BatchNormForwardInference(TestData.Tensor(x, shape), gamma, beta, mean, variance, inference, channels, 1e-5f);
            compute.AccumulateChannelSums(TestData.Tensor(x, shape), sums, channels);
            float[] all = [.. y.Span, .. mean.Span, .. invStd.Span, .. variance.Span, .. dx.Span, .. dgamma.Span, .. dbeta.Span, .. sums.Span, .. inference.Span];
            if (previous is not null) TestData.AssertBitwiseEqual(previous, all, $"{threads} threads");
            previous = all;
        }
    }

    [Fact]
    public void BatchNorm_Inference_UsesRunningStatistics()
    {
        var y = new float[4];
        _compute.BatchNormForwardInference(TestData.Tensor([1f, 2f, 3f, 4f], 2, 2), TestData.Tensor([2f, 0.5f], 2), TestData.Tensor([0f, 1f], 2),
            TestData.Tensor([1f, -1f], 2), TestData.Tensor([4f, 0.25f], 2), TestData.Tensor(y, 2, 2), 2, 0f);
        Assert.Equal([0f, 4f, 2f, 6f], y);
    }

    [Fact]
    public void BatchNorm_WithOneValuePerChannel_RefusesToTrain()
    {
        var error = Assert.Throws<ArgumentException>(() => _compute.BatchNormForwardTraining(Tensor.Zeros(1, 3), Tensor.Zeros(3), Tensor.Zeros(3), Tensor.Zeros(1, 3),
            Tensor.Zeros(3), Tensor.Zeros(3), Tensor.Zeros(3), 3, 1e-5f));
        Assert.Contains("more than 1 value per channel", error.Message);
    }

    [Theory]
    [InlineData(1, 1, 0f)]
    [InlineData(5, 13, 0.5f)]
    [InlineData(8, 100, 0.2f)]
    public void Dropout_MatchesNaiveTwin_AndAShardGetsTheSameMask(int samples, int perSample, float p)
    {
        var stream = RandomStream.For(123, RandomPurpose.Dropout, 2, 5, 1);
        var x = TestData.Uniform(samples * perSample, samples + perSample);
        var (expectedY, expectedMask) = (new float[x.Length], new float[x.Length]);
        NaiveRandomMasks.DropoutForward(x, expectedY, expectedMask, p, stream, 1000, samples);
        var (y, mask) = (new float[x.Length], new float[x.Length]);
        _compute.DropoutForward(TestData.Tensor(x, samples, perSample), TestData.Tensor(y, samples, perSample), TestData.Tensor(mask, samples, perSample), p, stream, 1000);
        TestData.AssertBitwiseEqual(expectedY, y, "y");
        TestData.AssertBitwiseEqual(expectedMask, mask, "mask");

        var lastY = new float[perSample];
        _compute.DropoutForward(TestData.Tensor(x[^perSample..], 1, perSample), TestData.Tensor(lastY, 1, perSample), Tensor.Zeros(1, perSample), p, stream, 1000 + samples - 1);
        TestData.AssertBitwiseEqual(y.AsSpan(x.Length - perSample), lastY, "last sample alone");
    }

    [Fact]
    public void Dropout_KeepsAboutOneMinusPOfTheElements()
    {
        const int length = 100_000;
        var mask = new float[length];
        _compute.DropoutForward(TestData.Tensor(new float[length], 100, 1000), Tensor.Zeros(100, 1000), TestData.Tensor(mask, 100, 1000), 0.3f, RandomStream.For(1, RandomPurpose.Dropout), 0);
        int kept = mask.Count(m => m != 0f);
        Assert.InRange(kept, 69_500, 70_500); // ±0.5 % is > 10 standard deviations of a binomial
        Assert.All(mask.Where(m => m != 0f), m => Assert.Equal(1f / 0.7f, m));
    }
}

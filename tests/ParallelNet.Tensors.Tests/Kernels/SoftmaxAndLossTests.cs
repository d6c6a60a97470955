using ParallelNet.Tensors.Cpu;
using ParallelNet.Tensors.Cpu.Kernels.Naive;

namespace ParallelNet.Tensors.Tests.Kernels;

public class SoftmaxAndLossTests
{
    private readonly CpuCompute _compute = new(2);

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 10)]
    [InlineData(7, 3)]
    [InlineData(33, 17)]
    [InlineData(4, 1000)]
    public void SoftmaxFamily_MatchesNaiveTwin_EvenForHugeLogits(int rows, int cols)
    {
        // An offset of 1000 overflows exp() unless the row maximum is subtracted first.
        var x = TestData.Uniform(rows * cols, rows * 100 + cols, 995f, 1005f);
        var dy = TestData.Uniform(rows * cols, rows + cols);
        var expectedSoftmax = new float[x.Length];
        var expectedLog = new float[x.Length];
        var expectedDx = new float[x.Length];
        NaiveSoftmaxAndLosses.Softmax(x, expectedSoftmax, cols);
        NaiveSoftmaxAndLosses.LogSoftmax(x, expectedLog, cols);
        NaiveSoftmaxAndLosses.SoftmaxBackward(expectedSoftmax, dy, expectedDx, cols);

        var softmax = new float[x.Length];
        var log = new float[x.Length];
        var dx = new float[x.Length];
        _compute.Softmax(TestData.Tensor(x, rows, cols), TestData.Tensor(softmax, rows, cols));
        _compute.LogSoftmax(TestData.Tensor(x, rows, cols), TestData.Tensor(log, rows, cols));
        _compute.SoftmaxBackward(TestData.Tensor(expectedSoftmax, rows, cols), TestData.Tensor(dy, rows, cols), TestData.Tensor(dx, rows, cols));

        TestData.AssertClose(expectedSoftmax, softmax, 1e-6f, 1e-5f, "softmax");
        TestData.AssertClose(expectedLog, log, 2e-5f, 1e-5f, "log-softmax");
        TestData.AssertClose(expectedDx, dx, 1e-6f, 1e-4f, "softmax backward");
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 2)]
    [InlineData(9, 10)]
    [InlineData(64, 7)]
    public void Losses_MatchNaiveTwin(int rows, int classes)
    {
        int seed = rows * 1000 + classes;
        var scores = TestData.Uniform(rows * classes, seed, -5f, 5f);
        var labels = TestData.Labels(rows, classes, seed + 1);
        var targets = TestData.Uniform(rows * classes, seed + 2, 0f, 1f);
        const float scale = 0.25f;

        void Check(string name, Func<float[], double> naive, Func<Tensor, double> fast, float lossTolerance)
        {
            var expectedGrad = new float[scores.Length];
            var grad = new float[scores.Length];
            double expected = naive(expectedGrad);
            double actual = fast(TestData.Tensor(grad, rows, classes));
            Assert.True(Math.Abs(expected - actual) <= lossTolerance * (1 + Math.Abs(expected)), $"{name}: loss {actual} vs naive {expected}");
            TestData.AssertClose(expectedGrad, grad, 1e-6f, 1e-5f, name);
        }

        var s = TestData.Tensor(scores, rows, classes);
        var l = TestData.Tensor(labels, rows);
        var t = TestData.Tensor(targets, rows, classes);
        Check("cross-entropy", g => NaiveSoftmaxAndLosses.SoftmaxCrossEntropy(scores, labels, g, scale), g => _compute.SoftmaxCrossEntropy(s, l, g, scale), 1e-6f);
        Check("binary cross-entropy", g => NaiveSoftmaxAndLosses.BinaryCrossEntropyWithLogits(scores, targets, g, scale), g => _compute.BinaryCrossEntropyWithLogits(s, t, g, scale), 1e-6f);
        Check("half squared error", g => NaiveSoftmaxAndLosses.HalfSquaredError(scores, targets, g, scale), g => _compute.HalfSquaredError(s, t, g, scale), 1e-6f);
        Check("hinge", g => NaiveSoftmaxAndLosses.MulticlassHinge(scores, labels, g, scale), g => _compute.MulticlassHinge(s, l, g, scale), 1e-6f);
    }

    [Fact]
    public void CountCorrect_UsesTheFirstMaximumOnTies()
    {
        var scores = TestData.Tensor([1f, 3f, 3f, 0f, 0f, 0f, 5f, -1f, 2f], 3, 3);
        Assert.Equal(2, _compute.CountCorrect(scores, TestData.Tensor([1f, 0f, 2f], 3)));
        Assert.Equal(1, _compute.CountCorrect(scores, TestData.Tensor([2f, 1f, 0f], 3)));
    }

    [Fact]
    public void NonIntegerOrOutOfRangeLabel_IsRejectedNamingTheRow()
    {
        var error = Assert.Throws<ArgumentException>(() => _compute.SoftmaxCrossEntropy(Tensor.Zeros(2, 3), TestData.Tensor([1f, 3f], 2), Tensor.Zeros(2, 3), 1f));
        Assert.Contains("label 3 in row 1", error.Message);
    }
}

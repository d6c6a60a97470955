using ParallelNet.Tensors.Cpu;

namespace ParallelNet.Tensors.Tests.Kernels;

/// <summary>A few ops against values printed by PyTorch 1.13 (Fixtures/torch_reference.py).</summary>
public class TorchReferenceTests
{
    private readonly CpuCompute _compute = new(1);

    [Fact]
    public void SoftmaxCrossEntropy_MatchesTorchSumReduction()
    {
        var grad = new float[6];
        double loss = _compute.SoftmaxCrossEntropy(TestData.Tensor([1f, 2f, 0.5f, -3f, 0f, 4f], 2, 3), TestData.Tensor([2f, 0f], 2), TestData.Tensor(grad, 2, 3), 1f);
        Assert.Equal(8.983413696289062, loss, 1e-5);
        TestData.AssertClose([0.23122388f, 0.6285317f, -0.85975564f, -0.9991053f, 0.01797012f, 0.98113525f], grad, 1e-6f);
    }

    [Fact]
    public void BinaryCrossEntropyWithLogits_MatchesTorchIncludingExtremeLogits()
    {
        var grad = new float[5];
        double loss = _compute.BinaryCrossEntropyWithLogits(TestData.Tensor([-100f, -2f, 0f, 3f, 50f], 5), TestData.Tensor([0f, 1f, 0.5f, 1f, 0f], 5), TestData.Tensor(grad, 5), 1f);
        Assert.Equal(52.86865997314453, loss, 1e-4);
        TestData.AssertClose([0f, -0.8807971f, 0f, -0.047425866f, 1f], grad, 1e-6f);
    }

    [Fact]
    public void MulticlassHinge_MatchesTorchMultiMarginLossTimesClasses()
    {
        var grad = new float[8];
        double loss = _compute.MulticlassHinge(TestData.Tensor([1f, 2f, 0.5f, 1.8f, 0.2f, -1f, 0.3f, 0f], 2, 4), TestData.Tensor([1f, 2f], 2), TestData.Tensor(grad, 2, 4), 1f);
        Assert.Equal(2.4, loss, 1e-5);
        Assert.Equal([0f, -1f, 0f, 1f, 1f, 0f, -2f, 1f], grad);
    }

    [Fact]
    public void BatchNormTrainingForwardAndBackward_MatchTorch()
    {
        float[] x = [1f, 2f, 0.5f, -1f, 3f, -2f, 0f, 4f, -1f, 0.5f, 2f, 2.5f];
        float[] dy = [0.3f, -0.2f, 1f, 0.5f, -0.7f, 0.1f, 0.2f, -0.4f, 0.6f, 0.9f, -1.2f, 0.8f];
        var y = new float[12];
        var mean = new float[2];
        var invStd = new float[2];
        var unbiased = new float[2];
        var gamma = TestData.Tensor([1.5f, -0.5f], 2);
        _compute.BatchNormForwardTraining(TestData.Tensor(x, 3, 2, 2), gamma, TestData.Tensor([0.1f, 0.2f], 2), TestData.Tensor(y, 3, 2, 2),
            TestData.Tensor(mean, 2), TestData.Tensor(invStd, 2), TestData.Tensor(unbiased, 2), 2, 1e-5f);
        TestData.AssertClose([0.46905029f, 1.3547709f, 0.44875887f, 0.89652479f, 2.2404914f, -2.1881115f, 0.59801418f, -0.59602827f, -1.3023909f, 0.026189983f, 0.00099295378f, -0.14826235f], y, 2e-6f, 1e-6f);
        TestData.AssertClose([3.4416668f, 3.3666668f], unbiased, 1e-6f, 1e-6f);

        var dx = new float[12];
        var dgamma = new float[2];
        var dbeta = new float[2];
        _compute.BatchNormBackward(TestData.Tensor(x, 3, 2, 2), TestData.Tensor(dy, 3, 2, 2), gamma, TestData.Tensor(mean, 2), TestData.Tensor(invStd, 2),
            TestData.Tensor(dx, 3, 2, 2), TestData.Tensor(dgamma, 2), TestData.Tensor(dbeta, 2), 2);
        TestData.AssertClose([0.18529339f, -0.096293405f, -0.2064454f, 0.027929461f, -0.37788022f, -0.47567126f, 0.060736284f, 0.012857222f, 0.12846255f, 0.6360889f, 0.36515841f, -0.260236f], dx, 2e-6f, 1e-5f);
        TestData.AssertClose([-1.8501719f, -1.9104679f], dgamma, 2e-6f, 1e-6f);
        TestData.AssertClose([1f, 0.9f], dbeta, 1e-6f);
    }

    public static IEnumerable<object[]> OptimizerCases =>
    [
        ["sgd_nesterov", new[] { 1.0549973f, -2.0616112f, 0.4121212f }],
        ["adam", new[] { 0.9924789f, -1.9853301f, 0.47739398f }],
        ["adamw", new[] { 0.9949726f, -1.9928759f, 0.47893628f }],
    ];

    [Theory]
    [MemberData(nameof(OptimizerCases))]
    public void ThreeOptimizerSteps_MatchTorch(string optimizer, float[] expected)
    {
        float[][] grads = [[0.1f, -0.2f, 0.3f], [-0.5f, 0.4f, 0f], [0.2f, 0.2f, -0.1f]];
        var weights = TestData.Tensor([1f, -2f, 0.5f], 3);
        var first = Tensor.Zeros(3);
        var second = Tensor.Zeros(3);
        for (int step = 1; step <= grads.Length; step++)
        {
            var g = TestData.Tensor(grads[step - 1], 3);
            if (optimizer == "sgd_nesterov") _compute.SgdStep(weights, g, first, 0.1f, 0.9f, 0.01f, nesterov: true, firstStep: step == 1);
            else _compute.AdamStep(weights, g, first, second, 0.01f, 0.9f, 0.999f, 1e-8f, 0.1f, decoupled: optimizer == "adamw", step);
        }
        TestData.AssertClose(expected, weights.Span, 1e-6f, 1e-6f);
    }
}

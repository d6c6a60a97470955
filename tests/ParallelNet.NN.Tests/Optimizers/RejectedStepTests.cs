using ParallelNet.NN.Optimizers;
using ParallelNet.Tensors;
using static ParallelNet.NN.Tests.Optimizers.OptimizerTestKit;

namespace ParallelNet.NN.Tests.Optimizers;

/// <summary>A non-finite reduced gradient must never reach the weights, the statistics or the optimizer state.</summary>
public sealed class RejectedStepTests
{
    private static ParameterLayout BatchNormLayout() => Layout(
        ("0.weight", [3, 4], ParameterRole.Weight),
        ("0.bias", [3], ParameterRole.Bias),
        ("1.weight", [3], ParameterRole.Gamma),
        ("1.bias", [3], ParameterRole.Beta),
        ("1.running_mean", [3], ParameterRole.RunningMean),
        ("1.running_var", [3], ParameterRole.RunningVariance),
        ("1.num_batches_tracked", [1], ParameterRole.BatchCount),
        ("2.weight", [2, 3], ParameterRole.Weight));

    public static TheoryData<string, int, float, string> BadGradients() => new()
    {
        { "2.weight", 3, float.NaN, "gradient of '2.weight' is NaN at element 3" },
        { "0.weight", 0, float.PositiveInfinity, "gradient of '0.weight' is +Inf at element 0" },
        { "1.bias", 2, float.NegativeInfinity, "gradient of '1.bias' is -Inf at element 2" },
        { "1.running_var", 1, float.NaN, "batch statistic of '1.running_var' is NaN at element 1" },
        { "1.running_mean", 0, float.PositiveInfinity, "batch statistic of '1.running_mean' is +Inf at element 0" },
    };

    [Theory]
    [MemberData(nameof(BadGradients))]
    public void Non_finite_gradient_is_rejected_and_leaves_no_trace(string slot, int element, float badValue, string expectedRejection)
    {
        var layout = BatchNormLayout();
        var options = new OptimizerOptions(OptimizerKind.Adam, 0.01f, WeightDecay: 0.01f, ClipGlobalNorm: 1f,
            Schedule: new LearningRateSchedule.Cosine(0.1f, WarmupSteps: 1));
        const long totalSteps = 10;
        var random = new Random(7);
        var goodGradients = Enumerable.Range(0, 3).Select(_ => RandomValues(random, layout.TotalSize, 8)).ToArray();
        var initial = RandomValues(random, layout.TotalSize);

        // Reference: the same job that never saw the bad step.
        var referenceCompute = NewCompute();
        var reference = new Optimizer(options, layout, referenceCompute);
        var referenceParameters = Upload(referenceCompute, initial);
        foreach (var g in goodGradients) Assert.True(reference.Step(referenceParameters, Upload(referenceCompute, g), 8, totalSteps).Applied);

        var compute = NewCompute();
        var optimizer = new Optimizer(options, layout, compute);
        var parameters = Upload(compute, initial);
        Assert.True(optimizer.Step(parameters, Upload(compute, goodGradients[0]), 8, totalSteps).Applied);
        var parametersBefore = Download(compute, parameters);
        var stateBefore = DownloadState(compute, optimizer);

        var bad = (float[])goodGradients[1].Clone();
        bad[layout[slot].Offset + element] = badValue;
        var outcome = optimizer.Step(parameters, Upload(compute, bad), 8, totalSteps);

        Assert.False(outcome.Applied);
        Assert.Equal(expectedRejection, outcome.Rejection);
        Assert.True(double.IsNaN(outcome.GradientNorm));
        Assert.Equal(1, optimizer.StepsTaken);
        Assert.Equal(parametersBefore, Download(compute, parameters));
        var stateAfter = DownloadState(compute, optimizer);
        foreach (var (name, values) in stateBefore) Assert.Equal(values, stateAfter[name]);

        // The job continues as if the bad step had never been offered.
        foreach (var g in goodGradients.Skip(1)) Assert.True(optimizer.Step(parameters, Upload(compute, g), 8, totalSteps).Applied);
        Assert.Equal(Download(referenceCompute, referenceParameters), Download(compute, parameters));
        Assert.Equal(DownloadState(referenceCompute, reference).Values, DownloadState(compute, optimizer).Values);
    }

    [Fact]
    public void Counter_slot_content_is_not_a_gradient_and_is_not_checked()
    {
        var layout = BatchNormLayout();
        var compute = NewCompute();
        var optimizer = new Optimizer(new OptimizerOptions(OptimizerKind.Sgd, 0.1f), layout, compute);
        var gradients = new float[layout.TotalSize];
        gradients[layout["1.num_batches_tracked"].Offset] = float.NaN;
        var parameters = Upload(compute, new float[layout.TotalSize]);

        var outcome = optimizer.Step(parameters, Upload(compute, gradients), 4, 1);

        Assert.True(outcome.Applied, outcome.Rejection);
        Assert.Equal(1f, Download(compute, parameters)[layout["1.num_batches_tracked"].Offset]);
    }
}

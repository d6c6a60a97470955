using ParallelNet.NN.Optimizers;
using ParallelNet.Tensors;
using static ParallelNet.NN.Tests.Optimizers.OptimizerTestKit;

namespace ParallelNet.NN.Tests.Optimizers;

public sealed class StepArgumentTests
{
    [Fact]
    public void Step_divides_the_gradient_sum_by_the_batch_size()
    {
        var layout = TwoLinearLayers();
        var compute = NewCompute();
        var optimizer = new Optimizer(new OptimizerOptions(OptimizerKind.Sgd, 0.5f), layout, compute);
        var random = new Random(1);
        var initial = RandomValues(random, layout.TotalSize);
        var sums = RandomValues(random, layout.TotalSize, 10);
        var parameters = Upload(compute, initial);

        var outcome = optimizer.Step(parameters, Upload(compute, sums), 5, 1);

        var after = Download(compute, parameters);
        for (int i = 0; i < after.Length; i++)
        {
            double expected = initial[i] - 0.5 * (sums[i] / 5.0);
            Assert.True(Math.Abs(after[i] - expected) <= 1e-6 * (1 + Math.Abs(expected)), $"element {i}: {after[i]} vs {expected}");
        }
        Assert.Equal(Math.Sqrt(sums.Sum(s => (s / 5.0) * (s / 5.0))), outcome.GradientNorm, 1e-5);
    }

    public static TheoryData<string, string> BadCalls() => new()
    {
        { "short parameters", "parameters" },
        { "long gradients", "gradients" },
        { "zero batch", "batchSize" },
        { "negative total", "totalSteps" },
        { "same buffer", "gradients" },
        { "cosine without total", "totalSteps" },
    };

    [Theory]
    [MemberData(nameof(BadCalls))]
    public void Bad_call_is_refused_before_anything_changes(string defect, string argument)
    {
        var layout = TwoLinearLayers();
        var compute = NewCompute();
        var options = new OptimizerOptions(OptimizerKind.Adam, 0.1f,
            Schedule: defect == "cosine without total" ? new LearningRateSchedule.Cosine() : null);
        var optimizer = new Optimizer(options, layout, compute);
        var random = new Random(2);
        var initial = RandomValues(random, layout.TotalSize);
        var gradientValues = RandomValues(random, layout.TotalSize);
        var parameters = Upload(compute, initial);
        var gradients = Upload(compute, gradientValues);
        int batchSize = 2;
        long totalSteps = 10;
        switch (defect)
        {
            case "short parameters": parameters = parameters.View(0, new Shape(layout.TotalSize - 1)); break;
            case "long gradients": gradients = Upload(compute, new float[layout.TotalSize + 1]); break;
            case "zero batch": batchSize = 0; break;
            case "negative total": totalSteps = -1; break;
            case "same buffer": gradients = parameters; break;
            case "cosine without total": totalSteps = 0; break;
        }

        var error = Assert.ThrowsAny<ArgumentException>(() => optimizer.Step(parameters, gradients, batchSize, totalSteps));

        Assert.Equal(argument, error.ParamName);
        Assert.Equal(0, optimizer.StepsTaken);
        Assert.Equal(initial.Take(parameters.Length), Download(compute, parameters));
        if (defect != "long gradients" && defect != "same buffer") Assert.Equal(gradientValues, Download(compute, gradients));
    }
}

using ParallelNet.NN.Optimizers;
using ParallelNet.Tensors.Cpu;
using static ParallelNet.NN.Tests.Optimizers.OptimizerTestKit;

namespace ParallelNet.NN.Tests.Optimizers;

public sealed class AveragedStepTests
{
    private static readonly OptimizerOptions[] Options =
    [
        new OptimizerOptions(OptimizerKind.Sgd, 0.05f, 0.9f),
        new OptimizerOptions(OptimizerKind.Sgd, 0.1f, 0.9f, WeightDecay: 1e-3f, Nesterov: true, ClipValue: 0.5f),
        new OptimizerOptions(OptimizerKind.AdamW, 1e-3f, WeightDecay: 0.01f, ClipGlobalNorm: 1f),
    ];

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Gradients_divided_beforehand_give_bitwise_the_weights_state_and_norm_of_the_dividing_step(int optionsIndex)
    {
        var options = Options[optionsIndex];
        var layout = Layout(
            ("0.weight", [64, 100], ParameterRole.Weight),
            ("0.bias", [64], ParameterRole.Bias),
            ("1.weight", [10, 64], ParameterRole.Weight));
        const int batch = 96;
        var random = new Random(5);
        var initial = RandomValues(random, layout.TotalSize);
        var sums = Enumerable.Range(0, 3).Select(_ => RandomValues(random, layout.TotalSize, 64)).ToArray();

        (float[] Weights, List<float[]> State, List<double> Norms) Run(bool divided)
        {
            var compute = new CpuCompute(1);
            var optimizer = new Optimizer(options, layout, compute);
            var parameters = Upload(compute, initial);
            var norms = sums.Select(sum => divided
                ? optimizer.StepAveraged(parameters, Upload(compute, sum.Select(v => v * (1f / batch)).ToArray()), batch, 3).GradientNorm
                : optimizer.Step(parameters, Upload(compute, sum), batch, 3).GradientNorm).ToList();
            return (Download(compute, parameters), optimizer.State.Select(s => Download(compute, s.State)).ToList(), norms);
        }

        var dividing = Run(divided: false);
        var averaged = Run(divided: true);

        Assert.Equal(dividing.Norms.Select(BitConverter.DoubleToInt64Bits), averaged.Norms.Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(dividing.Weights.Select(BitConverter.SingleToInt32Bits), averaged.Weights.Select(BitConverter.SingleToInt32Bits));
        for (int i = 0; i < dividing.State.Count; i++)
            Assert.Equal(dividing.State[i].Select(BitConverter.SingleToInt32Bits), averaged.State[i].Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void An_averaged_step_with_a_non_finite_gradient_is_rejected_and_changes_nothing()
    {
        var layout = Layout(("0.weight", [4, 3], ParameterRole.Weight));
        var compute = new CpuCompute(1);
        var optimizer = new Optimizer(new OptimizerOptions(OptimizerKind.Sgd, 0.1f, 0.9f), layout, compute);
        var initial = RandomValues(new Random(1), layout.TotalSize);
        var parameters = Upload(compute, initial);
        var gradients = new float[layout.TotalSize];
        gradients[5] = float.NaN;

        var outcome = optimizer.StepAveraged(parameters, Upload(compute, gradients), 8, 1);

        Assert.False(outcome.Applied);
        Assert.Equal(initial, Download(compute, parameters));
        Assert.Equal(0, optimizer.StepsTaken);
    }
}

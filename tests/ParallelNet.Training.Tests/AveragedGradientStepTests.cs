using ParallelNet.Data;
using ParallelNet.NN;
using ParallelNet.NN.Optimizers;
using ParallelNet.Tensors;
using ParallelNet.Tensors.Cpu;

namespace ParallelNet.Training.Tests;

/// <summary>
/// The parameter server's combine-then-step (bitwise against the plain way: ParameterServerTests); here, that a step
/// uses its own combine's finding once.
/// </summary>
public sealed class AveragedGradientStepTests
{
    [Fact]
    public void A_step_follows_its_combine_once()
    {
        var layout = new ParameterLayout([new ParameterInfo("0.weight", new Shape(3), 0, ParameterRole.Weight)]);
        var compute = new CpuCompute(1);
        var optimizer = new Optimizer(new OptimizerOptions(OptimizerKind.Sgd, 0.1f), layout, compute);
        var averagedStep = new AveragedGradientStep(optimizer, threads: 1);
        var parameters = Tensor.FromArray([1f, 2f, 3f], new Shape(3));
        var sums = new ReadOnlyMemory<float>[] { new float[] { 1f, 1f, 1f }, new float[] { 1f, 1f, float.NaN } };
        var total = new float[3];
        ShardBlock[] blocks = [new(0, 1), new(1, 1)];

        Assert.Throws<InvalidOperationException>(() => averagedStep.Step(parameters, Tensor.FromArray(total, new Shape(3)), 2, 1));
        averagedStep.Combine(2, blocks, sums, total, 0.5f);
        Assert.Equal([1f, 1f, float.NaN], total);
        Assert.Equal([1f, 1f, 1f], sums[0].ToArray()); // the blocks are only read
        var outcome = averagedStep.Step(parameters, Tensor.FromArray(total, new Shape(3)), 2, 1);
        Assert.False(outcome.Applied);
        Assert.Equal("gradient of '0.weight' is NaN at element 2", outcome.Rejection);
        Assert.Equal([1f, 2f, 3f], parameters.Span.ToArray());
        Assert.Throws<InvalidOperationException>(() => averagedStep.Step(parameters, Tensor.FromArray(total, new Shape(3)), 2, 1));
    }
}

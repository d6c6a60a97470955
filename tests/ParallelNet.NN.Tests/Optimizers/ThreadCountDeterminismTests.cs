using ParallelNet.NN.Optimizers;
using ParallelNet.Tensors.Cpu;
using static ParallelNet.NN.Tests.Optimizers.OptimizerTestKit;

namespace ParallelNet.NN.Tests.Optimizers;

public sealed class ThreadCountDeterminismTests
{
    [Fact]
    public void Weights_state_and_norm_are_bitwise_the_same_for_one_and_two_threads()
    {
        // Large enough that a backend would be tempted to split the norm or the updates across threads.
        var layout = Layout(
            ("0.weight", [256, 300], ParameterRole.Weight),
            ("0.bias", [256], ParameterRole.Bias),
            ("1.weight", [10, 256], ParameterRole.Weight));
        var options = new OptimizerOptions(OptimizerKind.AdamW, 1e-3f, WeightDecay: 0.01f, ClipGlobalNorm: 5f,
            Schedule: new LearningRateSchedule.Cosine(0.1f, WarmupSteps: 1));
        var random = new Random(13);
        var initial = RandomValues(random, layout.TotalSize);
        var gradients = Enumerable.Range(0, 3).Select(_ => RandomValues(random, layout.TotalSize, 64)).ToArray();

        (float[] Weights, List<float[]> State, List<double> Norms) Run(int threads)
        {
            var compute = new CpuCompute(threads);
            var optimizer = new Optimizer(options, layout, compute);
            var parameters = Upload(compute, initial);
            var norms = gradients.Select(g => optimizer.Step(parameters, Upload(compute, g), 128, 3).GradientNorm).ToList();
            return (Download(compute, parameters), optimizer.State.Select(s => Download(compute, s.State)).ToList(), norms);
        }

        var one = Run(1);
        var two = Run(2);

        Assert.Equal(one.Norms.Select(BitConverter.DoubleToInt64Bits), two.Norms.Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(one.Weights.Select(BitConverter.SingleToInt32Bits), two.Weights.Select(BitConverter.SingleToInt32Bits));
        for (int i = 0; i < one.State.Count; i++)
            Assert.Equal(one.State[i].Select(BitConverter.SingleToInt32Bits), two.State[i].Select(BitConverter.SingleToInt32Bits));
    }
}

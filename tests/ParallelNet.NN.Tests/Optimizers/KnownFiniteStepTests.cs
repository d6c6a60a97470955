using ParallelNet.NN.Optimizers;
using static ParallelNet.NN.Tests.Optimizers.OptimizerTestKit;

namespace ParallelNet.NN.Tests.Optimizers;

/// <summary>
/// <see cref="Optimizer.StepAveragedFinite"/> skips the finiteness pass of <see cref="Optimizer.StepAveraged"/> (the parameter
/// server checked while combining); the weights, running statistics, counters, state and step count must not notice.
/// </summary>
public sealed class KnownFiniteStepTests
{
    public static TheoryData<string> OptionNames() => [.. Configurations.Keys];

    private static readonly Dictionary<string, OptimizerOptions> Configurations = new()
    {
        ["sgd"] = new(OptimizerKind.Sgd, 0.1f),
        ["sgd weight decay"] = new(OptimizerKind.Sgd, 0.1f, WeightDecay: 1e-2f),
        ["momentum"] = new(OptimizerKind.Sgd, 0.05f, 0.9f),
        ["nesterov"] = new(OptimizerKind.Sgd, 0.05f, 0.9f, Nesterov: true, WeightDecay: 1e-3f),
        ["adam"] = new(OptimizerKind.Adam, 1e-2f, WeightDecay: 1e-3f),
        ["adamw"] = new(OptimizerKind.AdamW, 1e-2f, WeightDecay: 0.01f, Schedule: new LearningRateSchedule.Cosine(0.1f, WarmupSteps: 1)),
        ["momentum clip value"] = new(OptimizerKind.Sgd, 0.05f, 0.9f, ClipValue: 0.2f),
        ["momentum clip norm"] = new(OptimizerKind.Sgd, 0.05f, 0.9f, ClipGlobalNorm: 0.5f),
        ["adam clip norm"] = new(OptimizerKind.Adam, 1e-2f, ClipGlobalNorm: 0.5f),
        ["adamw clip value and norm"] = new(OptimizerKind.AdamW, 1e-2f, WeightDecay: 0.01f, ClipGlobalNorm: 0.5f, ClipValue: 0.2f),
    };

    // Batch-norm slots too: running statistics move, the counter counts, neither is trained. Odd lengths throughout.
    private static ParameterLayout Layout() => OptimizerTestKit.Layout(
        ("0.weight", [37, 29], ParameterRole.Weight),
        ("0.bias", [37], ParameterRole.Bias),
        ("1.weight", [37], ParameterRole.Gamma),
        ("1.bias", [37], ParameterRole.Beta),
        ("1.running_mean", [37], ParameterRole.RunningMean),
        ("1.running_var", [37], ParameterRole.RunningVariance),
        ("1.num_batches_tracked", [1], ParameterRole.BatchCount),
        ("2.weight", [3, 37], ParameterRole.Weight),
        ("2.bias", [3], ParameterRole.Bias));

    [Theory]
    [MemberData(nameof(OptionNames))]
    public void A_known_finite_step_leaves_bitwise_what_the_checking_step_leaves(string name)
    {
        var options = Configurations[name];
        var layout = Layout();
        const int batch = 24;
        const long totalSteps = 6;
        var random = new Random(11);
        var initial = RandomValues(random, layout.TotalSize);
        var averaged = Enumerable.Range(0, 4).Select(_ => RandomValues(random, layout.TotalSize, 3)).ToArray();
        bool clips = options.ClipGlobalNorm > 0f || options.ClipValue > 0f;

        (float[] Weights, Dictionary<string, float[]> State, long Steps, List<double> Norms) Run(bool knownFinite)
        {
            var compute = NewCompute();
            var optimizer = new Optimizer(options, layout, compute);
            var parameters = Upload(compute, initial);
            var norms = new List<double>();
            foreach (var gradients in averaged)
            {
                var outcome = knownFinite
                    ? optimizer.StepAveragedFinite(parameters, Upload(compute, gradients), batch, totalSteps)
                    : optimizer.StepAveraged(parameters, Upload(compute, gradients), batch, totalSteps);
                Assert.True(outcome.Applied);
                norms.Add(outcome.GradientNorm);
            }
            return (Download(compute, parameters), DownloadState(compute, optimizer), optimizer.StepsTaken, norms);
        }

        var checking = Run(knownFinite: false);
        var known = Run(knownFinite: true);

        Assert.Equal(checking.Weights.Select(BitConverter.SingleToInt32Bits), known.Weights.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(checking.State.Keys, known.State.Keys);
        foreach (var (key, values) in checking.State)
            Assert.Equal(values.Select(BitConverter.SingleToInt32Bits), known.State[key].Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(checking.Steps, known.Steps);
        // Clipping measures the norm the same way; without clipping the known-finite step does not measure it.
        if (clips) Assert.Equal(checking.Norms.Select(BitConverter.DoubleToInt64Bits), known.Norms.Select(BitConverter.DoubleToInt64Bits));
        else Assert.All(known.Norms, norm => Assert.True(double.IsNaN(norm)));
    }

    [Fact]
    public void Norm_clipping_really_clips_in_the_cases_above()
    {
        // The gradients above (uniform in ±3 over 1.2k values) have a norm far above 0.5, so the clip-norm cases scale.
        var layout = Layout();
        var compute = NewCompute();
        var optimizer = new Optimizer(Configurations["momentum clip norm"], layout, compute);
        var random = new Random(11);
        var parameters = Upload(compute, RandomValues(random, layout.TotalSize));
        var outcome = optimizer.StepAveragedFinite(parameters, Upload(compute, RandomValues(random, layout.TotalSize, 3)), 24, 6);
        Assert.True(outcome.GradientNorm > 10 * 0.5);
    }
}

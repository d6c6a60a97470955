using ParallelNet.NN.Optimizers;
using static ParallelNet.NN.Tests.Optimizers.OptimizerTestKit;

namespace ParallelNet.NN.Tests.Optimizers;

/// <summary>
/// <see cref="Optimizer.StepAveragedFinite"/> skips the finiteness pass of <see cref="Optimizer.StepAveraged"/> (the parameter
/// server checked while combining), and <see cref="Optimizer.StepScanned"/> also the clamp and the norm's pass (a
/// <see cref="GradientScan"/> did them while the gradients were written); the weights, running statistics, counters,
/// state and step count must not notice.
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

    private const int Batch = 24;
    private const long TotalSteps = 6;

    /// <summary>Weights, state, step count and reported norms after four steps of <paramref name="step"/> on random averaged gradients.</summary>
    private sealed record Outcome(float[] Weights, Dictionary<string, float[]> State, long Steps, List<double> Norms);

    /// <param name="step">One step: the optimizer, its backend, the parameters and the step's averaged gradients (a copy it may change).</param>
    private static Outcome FourSteps(OptimizerOptions options, Func<Optimizer, Tensors.ICompute, Tensors.Tensor, float[], StepOutcome> step)
    {
        var layout = Layout();
        var random = new Random(11);
        var initial = RandomValues(random, layout.TotalSize);
        var averaged = Enumerable.Range(0, 4).Select(_ => RandomValues(random, layout.TotalSize, 3)).ToArray();
        var compute = NewCompute();
        var optimizer = new Optimizer(options, layout, compute);
        var parameters = Upload(compute, initial);
        var norms = new List<double>();
        foreach (var gradients in averaged)
        {
            var outcome = step(optimizer, compute, parameters, (float[])gradients.Clone());
            Assert.True(outcome.Applied);
            norms.Add(outcome.GradientNorm);
        }
        return new(Download(compute, parameters), DownloadState(compute, optimizer), optimizer.StepsTaken, norms);
    }

    /// <summary>Bitwise the same weights, state and step count; the same norms where <paramref name="measured"/>, NaN (not measured) otherwise.</summary>
    private static void AssertBitwiseSame(Outcome checking, Outcome other, bool measured)
    {
        Assert.Equal(checking.Weights.Select(BitConverter.SingleToInt32Bits), other.Weights.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(checking.State.Keys, other.State.Keys);
        foreach (var (key, values) in checking.State)
            Assert.Equal(values.Select(BitConverter.SingleToInt32Bits), other.State[key].Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(checking.Steps, other.Steps);
        if (measured) Assert.Equal(checking.Norms.Select(BitConverter.DoubleToInt64Bits), other.Norms.Select(BitConverter.DoubleToInt64Bits));
        else Assert.All(other.Norms, norm => Assert.True(double.IsNaN(norm)));
    }

    private static Outcome CheckingSteps(OptimizerOptions options)
        => FourSteps(options, (optimizer, compute, parameters, gradients) => optimizer.StepAveraged(parameters, Upload(compute, gradients), Batch, TotalSteps));

    [Theory]
    [MemberData(nameof(OptionNames))]
    public void A_known_finite_step_leaves_bitwise_what_the_checking_step_leaves(string name)
    {
        var options = Configurations[name];
        var known = FourSteps(options, (optimizer, compute, parameters, gradients) => optimizer.StepAveragedFinite(parameters, Upload(compute, gradients), Batch, TotalSteps));
        // Clipping measures the norm the same way; without clipping the known-finite step does not measure it.
        AssertBitwiseSame(CheckingSteps(options), known, measured: options.ClipGlobalNorm > 0f || options.ClipValue > 0f);
    }

    /// <summary>Hands the gradients to the scan chunk by chunk, slot by slot, as the parameter server's combine does.</summary>
    private static void Scan(GradientScan scan, ParameterLayout layout, float[] gradients, int chunk)
    {
        scan.Reset();
        foreach (var (p, slot) in layout.Parameters.Select((p, i) => (p, i)))
        {
            for (int offset = 0; offset < p.Length; offset += chunk)
            {
                int n = Math.Min(chunk, p.Length - offset);
                scan.Visit(slot, offset, gradients.AsSpan(p.Offset + offset, n), last: offset + n == p.Length);
            }
        }
    }

    [Theory]
    [InlineData("momentum clip value", 16)]
    [InlineData("momentum clip norm", 16)]
    [InlineData("adam clip norm", 2048)]
    [InlineData("adamw clip value and norm", 32)]
    public void A_scanned_step_leaves_bitwise_what_the_checking_step_leaves(string name, int chunk)
    {
        var options = Configurations[name];
        var scans = new Dictionary<Optimizer, GradientScan>();
        var scanned = FourSteps(options, (optimizer, compute, parameters, gradients) =>
        {
            if (!scans.TryGetValue(optimizer, out var scan))
            {
                scans[optimizer] = scan = optimizer.CreateGradientScan() ?? throw new InvalidOperationException($"{name} clips, so it scans.");
                Assert.Equal(Layout().Parameters.Select(p => p.Length), scan.SlotLengths);
            }
            Scan(scan, Layout(), gradients, chunk);
            return optimizer.StepScanned(parameters, Upload(compute, gradients), Batch, TotalSteps, scan);
        });
        // The norm is measured when it clips by norm (after the clamp, as the step measures it), not otherwise.
        AssertBitwiseSame(CheckingSteps(options), scanned, measured: options.ClipGlobalNorm > 0f);
    }

    public static TheoryData<string, int, float> BadValues() => new()
    {
        { "0.weight", 0, float.NaN },
        { "0.weight", 37 * 29 / 2, float.PositiveInfinity },
        { "2.bias", 2, float.NegativeInfinity },
        { "1.running_var", 5, float.NaN },
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public void A_scan_that_finds_a_non_finite_value_leaves_it_for_the_checking_step_which_rejects_as_on_the_raw_gradients(string slot, int element, float bad)
    {
        var options = Configurations["adamw clip value and norm"];
        var layout = Layout();
        var random = new Random(17);
        var initial = RandomValues(random, layout.TotalSize);
        var gradients = RandomValues(random, layout.TotalSize, 3);
        gradients[layout[slot].Offset + element] = bad;

        var compute = NewCompute();
        var optimizer = new Optimizer(options, layout, compute);
        var scan = optimizer.CreateGradientScan()!;
        var parameters = Upload(compute, initial);
        var scanned = (float[])gradients.Clone();
        Scan(scan, layout, scanned, 16);

        Assert.False(scan.AllFinite);
        Assert.Throws<ArgumentException>(() => optimizer.StepScanned(parameters, Upload(compute, scanned), Batch, TotalSteps, scan));
        var raw = new Optimizer(options, layout, NewCompute()).StepAveraged(Upload(NewCompute(), initial), Upload(NewCompute(), gradients), Batch, TotalSteps);
        var outcome = optimizer.StepAveraged(parameters, Upload(compute, scanned), Batch, TotalSteps);
        Assert.False(outcome.Applied);
        Assert.Equal(raw.Rejection, outcome.Rejection);
        Assert.Equal(initial, Download(compute, parameters));
        Assert.All(DownloadState(compute, optimizer).Values, state => Assert.All(state, v => Assert.Equal(0f, v)));
        Assert.Equal(0, optimizer.StepsTaken);
    }

    [Fact]
    public void A_scan_is_offered_only_when_clipping_gives_it_work_and_only_to_its_own_optimizer()
    {
        var layout = Layout();
        Assert.Null(new Optimizer(Configurations["momentum"], layout, NewCompute()).CreateGradientScan());
        var compute = NewCompute();
        var clipping = new Optimizer(Configurations["momentum clip norm"], layout, compute);
        var other = new Optimizer(Configurations["momentum clip norm"], layout, compute).CreateGradientScan()!;
        var gradients = new float[layout.TotalSize];
        Scan(other, layout, gradients, 64);
        Assert.Throws<ArgumentException>(() => clipping.StepScanned(Upload(compute, new float[layout.TotalSize]), Upload(compute, gradients), 8, 1, other));
    }

    [Fact]
    public void Norm_clipping_really_clips_in_the_cases_above()
    {
        // The gradients above (uniform in ±3 over 1.2k values) have a norm far above 0.5, so the clip-norm cases scale.
        Assert.All(CheckingSteps(Configurations["momentum clip norm"]).Norms, norm => Assert.True(norm > 10 * 0.5));
    }
}

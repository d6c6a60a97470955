using ParallelNet.NN.Optimizers;
using ParallelNet.Tensors;
using static ParallelNet.NN.Tests.Optimizers.OptimizerTestKit;

namespace ParallelNet.NN.Tests.Optimizers;

/// <summary>A checkpoint of (weights, State, StepsTaken) must continue a job bit for bit.</summary>
public sealed class OptimizerStateTests
{
    private const long TotalSteps = 6;
    private const int BatchSize = 3;

    public static TheoryData<string> Configurations() => ["sgd-nesterov-step-decay", "adam-cosine-warmup", "adamw-clipped", "sgd-plain"];

    private static OptimizerOptions Options(string configuration) => configuration switch
    {
        "sgd-nesterov-step-decay" => new(OptimizerKind.Sgd, 0.05f, Momentum: 0.9f, Nesterov: true, WeightDecay: 1e-3f,
            Schedule: new LearningRateSchedule.StepDecay(2, 0.5f)),
        "adam-cosine-warmup" => new(OptimizerKind.Adam, 0.01f, WeightDecay: 1e-2f, Schedule: new LearningRateSchedule.Cosine(0.05f, WarmupSteps: 2)),
        "adamw-clipped" => new(OptimizerKind.AdamW, 0.01f, WeightDecay: 0.1f, ClipGlobalNorm: 0.5f, ClipValue: 0.2f),
        "sgd-plain" => new(OptimizerKind.Sgd, 0.05f, WeightDecay: 1e-3f),
        _ => throw new ArgumentOutOfRangeException(nameof(configuration)),
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Restored_state_continues_bitwise_identically(string configuration)
    {
        var options = Options(configuration);
        var layout = TwoLinearLayers();
        var random = new Random(11);
        var initial = RandomValues(random, layout.TotalSize);
        var gradients = Enumerable.Range(0, (int)TotalSteps).Select(_ => RandomValues(random, layout.TotalSize, 3)).ToArray();

        var straightCompute = NewCompute();
        var straight = new Optimizer(options, layout, straightCompute);
        var straightParameters = Upload(straightCompute, initial);
        foreach (var g in gradients) Assert.True(straight.Step(straightParameters, Upload(straightCompute, g), BatchSize, TotalSteps).Applied);

        var firstCompute = NewCompute();
        var first = new Optimizer(options, layout, firstCompute);
        var firstParameters = Upload(firstCompute, initial);
        foreach (var g in gradients.Take(2)) Assert.True(first.Step(firstParameters, Upload(firstCompute, g), BatchSize, TotalSteps).Applied);
        var savedWeights = Download(firstCompute, firstParameters);
        var savedState = DownloadState(firstCompute, first);

        var resumedCompute = NewCompute();
        var resumed = new Optimizer(options, layout, resumedCompute);
        resumed.LoadState(savedState, first.StepsTaken);
        var resumedParameters = Upload(resumedCompute, savedWeights);
        foreach (var g in gradients.Skip(2)) Assert.True(resumed.Step(resumedParameters, Upload(resumedCompute, g), BatchSize, TotalSteps).Applied);

        Assert.Equal(TotalSteps, resumed.StepsTaken);
        AssertBitwiseEqual(Download(straightCompute, straightParameters), Download(resumedCompute, resumedParameters));
        var straightState = DownloadState(straightCompute, straight);
        var resumedState = DownloadState(resumedCompute, resumed);
        Assert.Equal(straightState.Keys, resumedState.Keys);
        foreach (var (name, values) in straightState) AssertBitwiseEqual(values, resumedState[name]);
    }

    [Fact]
    public void State_names_follow_pytorch()
    {
        var layout = TwoLinearLayers();
        var compute = NewCompute();
        Assert.Equal(["0.weight.momentum_buffer", "0.bias.momentum_buffer", "2.weight.momentum_buffer"],
            new Optimizer(new OptimizerOptions(OptimizerKind.Sgd, 0.1f, Momentum: 0.5f), layout, compute).State.Select(s => s.Name));
        Assert.Empty(new Optimizer(new OptimizerOptions(OptimizerKind.Sgd, 0.1f), layout, compute).State);
        Assert.Equal(["0.weight.exp_avg", "0.weight.exp_avg_sq", "0.bias.exp_avg", "0.bias.exp_avg_sq", "2.weight.exp_avg", "2.weight.exp_avg_sq"],
            new Optimizer(new OptimizerOptions(OptimizerKind.AdamW, 0.1f), layout, compute).State.Select(s => s.Name));
        Assert.Equal([3, 4], new Optimizer(new OptimizerOptions(OptimizerKind.Adam, 0.1f), layout, compute).State[0].State.Shape.ToArray());
    }

    public static TheoryData<string, string> BadStates() => new()
    {
        { "missing", "'0.bias.momentum_buffer' is missing" },
        { "short", "'2.weight.momentum_buffer' has 5 values but the parameter has 6" },
        { "unexpected", "Unexpected optimizer state '0.weight.exp_avg'" },
    };

    [Theory]
    [MemberData(nameof(BadStates))]
    public void Mismatched_state_is_refused_and_nothing_is_loaded(string defect, string expectedMessage)
    {
        var layout = TwoLinearLayers();
        var compute = NewCompute();
        var optimizer = new Optimizer(new OptimizerOptions(OptimizerKind.Sgd, 0.1f, Momentum: 0.9f), layout, compute);
        var state = optimizer.State.ToDictionary(s => s.Name, s => Enumerable.Repeat(7f, s.State.Length).ToArray());
        switch (defect)
        {
            case "missing": state.Remove("0.bias.momentum_buffer"); break;
            case "short": state["2.weight.momentum_buffer"] = new float[5]; break;
            case "unexpected": state["0.weight.exp_avg"] = new float[12]; break;
        }

        var error = Assert.Throws<ArgumentException>(() => optimizer.LoadState(state, 4));

        Assert.Contains(expectedMessage, error.Message);
        Assert.Equal(0, optimizer.StepsTaken);
        Assert.All(DownloadState(compute, optimizer).Values, values => Assert.All(values, v => Assert.Equal(0f, v)));
    }

    private static void AssertBitwiseEqual(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]), $"element {i}: {expected[i]:R} vs {actual[i]:R}");
    }
}

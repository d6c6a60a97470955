using ParallelNet.NN.Optimizers;

namespace ParallelNet.NN.Tests.Optimizers;

public sealed class OptimizerOptionsTests
{
    private static readonly OptimizerOptions Sgd = new(OptimizerKind.Sgd, 0.1f);
    private static readonly OptimizerOptions Adam = new(OptimizerKind.Adam, 0.001f);

    public static TheoryData<string, string> BadOptions() => new()
    {
        { "negative lr", "LearningRate" },
        { "NaN lr", "LearningRate" },
        { "infinite lr", "LearningRate" },
        { "momentum 1", "Momentum" },
        { "negative momentum", "Momentum" },
        { "momentum with adam", "Momentum" },
        { "nesterov without momentum", "Nesterov" },
        { "nesterov with adam", "Nesterov" },
        { "negative weight decay", "WeightDecay" },
        { "beta1 1", "Beta1" },
        { "beta2 negative", "Beta2" },
        { "zero epsilon", "Epsilon" },
        { "negative clip norm", "ClipGlobalNorm" },
        { "NaN clip value", "ClipValue" },
        { "undefined kind", "Kind" },
        { "zero step size", "StepSize" },
        { "zero gamma", "Gamma" },
        { "min factor above one", "MinFactor" },
        { "negative warmup", "WarmupSteps" },
    };

    private static OptimizerOptions Make(string defect) => defect switch
    {
        "negative lr" => Sgd with { LearningRate = -0.1f },
        "NaN lr" => Sgd with { LearningRate = float.NaN },
        "infinite lr" => Sgd with { LearningRate = float.PositiveInfinity },
        "momentum 1" => Sgd with { Momentum = 1f },
        "negative momentum" => Sgd with { Momentum = -0.1f },
        "momentum with adam" => Adam with { Momentum = 0.9f },
        "nesterov without momentum" => Sgd with { Nesterov = true },
        "nesterov with adam" => Adam with { Nesterov = true },
        "negative weight decay" => Sgd with { WeightDecay = -1e-4f },
        "beta1 1" => Adam with { Beta1 = 1f },
        "beta2 negative" => Adam with { Beta2 = -0.5f },
        "zero epsilon" => Adam with { Epsilon = 0f },
        "negative clip norm" => Sgd with { ClipGlobalNorm = -1f },
        "NaN clip value" => Sgd with { ClipValue = float.NaN },
        "undefined kind" => Sgd with { Kind = (OptimizerKind)42 },
        "zero step size" => Sgd with { Schedule = new LearningRateSchedule.StepDecay(0, 0.1f) },
        "zero gamma" => Sgd with { Schedule = new LearningRateSchedule.StepDecay(10, 0f) },
        "min factor above one" => Sgd with { Schedule = new LearningRateSchedule.Cosine(1.5f) },
        "negative warmup" => Sgd with { Schedule = new LearningRateSchedule.Cosine(0f, WarmupSteps: -1) },
        _ => throw new ArgumentOutOfRangeException(nameof(defect)),
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Validate_names_the_bad_field(string defect, string field)
    {
        var options = Make(defect);

        var error = Assert.ThrowsAny<ArgumentException>(options.Validate);

        Assert.Equal(field, error.ParamName);
        Assert.Contains(field, error.Message);
        Assert.ThrowsAny<ArgumentException>(() => new Optimizer(options, OptimizerTestKit.TwoLinearLayers(), OptimizerTestKit.NewCompute()));
    }

    [Fact]
    public void Typical_settings_are_valid()
    {
        Sgd.Validate();
        Adam.Validate();
        (Sgd with { Momentum = 0.9f, Nesterov = true, WeightDecay = 5e-4f, ClipGlobalNorm = 1f, ClipValue = 5f, Schedule = new LearningRateSchedule.StepDecay(100, 0.1f) }).Validate();
        (new OptimizerOptions(OptimizerKind.AdamW, 1e-3f, WeightDecay: 0.01f, Schedule: new LearningRateSchedule.Cosine(0.01f, 50))).Validate();
        (Sgd with { LearningRate = 0f, Schedule = new LearningRateSchedule.Constant() }).Validate();
    }
}

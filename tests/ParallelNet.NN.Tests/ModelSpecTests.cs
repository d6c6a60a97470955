using ParallelNet.NN.Losses;
using ParallelNet.Tensors;

namespace ParallelNet.NN.Tests;

public sealed class ModelSpecTests
{
    private const string MlpYaml = """
        # the mlp preset, written out
        input: [1, 28, 28]
        loss: cross_entropy
        l2: 0.0005
        layers:
          - type: flatten
          - type: linear
            out: 512
          - type: relu
          - type: dropout
            p: 0.2
          - type: linear
            out: 512
            init: xavier
          - type: relu
          - type: dropout
            p: 0.2
          - type: linear
            out: 10
        """;

    [Fact]
    public void ParsesYaml()
    {
        var spec = ModelSpec.Parse(MlpYaml);
        Assert.Equal(new Shape(1, 28, 28), spec.Input);
        Assert.Equal(LossKind.CrossEntropy, spec.Loss);
        Assert.Equal(0.0005f, spec.L2);
        Assert.Equal(8, spec.Layers.Count);
        Assert.Equal("xavier", spec.Layers[4]["init"]);
        Assert.Equal(669_706, spec.CreateLayout().TrainableCount);
        Assert.Equal(new Shape(10), spec.OutputShape);
    }

    [Fact]
    public void ParsesJson()
    {
        var spec = ModelSpec.Parse("""{"input": [3, 8, 8], "loss": "hinge", "layers": [{"type": "conv2d", "out": 4, "kernel": 3, "padding": "same"}, {"type": "flatten"}, {"type": "linear", "out": 5}]}""");
        Assert.Equal(LossKind.Hinge, spec.Loss);
        Assert.Equal(new Shape(5), spec.OutputShape);
        Assert.Equal(new Shape(4, 3, 3, 3), spec.CreateLayout()["0.weight"].Shape);
    }

    [Theory]
    [InlineData("mlp")]
    [InlineData("cnn")]
    [InlineData("vgg-small")]
    [InlineData("resnet-small")]
    [InlineData("softmax-regression")]
    public void YamlRoundTripGivesTheSameSpec(string preset)
    {
        var spec = ModelSpec.Preset(preset);
        var yaml = spec.ToYaml();
        var again = ModelSpec.Parse(yaml);
        Assert.Equal(yaml, again.ToYaml());
        Assert.Equal(spec.Input, again.Input);
        Assert.Equal(spec.Loss, again.Loss);
        Assert.Equal(spec.Layers.Select(l => (l.Type, string.Join(";", l.Options))), again.Layers.Select(l => (l.Type, string.Join(";", l.Options))));
        Assert.Equal(spec.CreateLayout().Parameters, again.CreateLayout().Parameters, (a, b) => a.Name == b.Name && a.Shape == b.Shape && a.Offset == b.Offset);
    }

    [Fact]
    public void RoundTripKeepsL2AndQuotedValues()
    {
        var spec = new ModelSpec(new Shape(4), [new LayerSpec("linear", ("out", 2)), new LayerSpec("leaky_relu", ("alpha", 0.1f))], LossKind.MeanSquaredError, 1e-4f);
        var again = ModelSpec.Parse(spec.ToYaml());
        Assert.Equal(1e-4f, again.L2);
        Assert.Equal("0.1", again.Layers[1]["alpha"]);
    }

    [Theory]
    [InlineData("input: [4]\nloss: mse\nlayers: [{type: linar, out: 2}]", "layer 0 (linar): unknown layer type")]
    [InlineData("input: [4]\nloss: mse\nlayers: [{type: linear, outt: 2}]", "layer 0 (linear): missing required option 'out'")]
    [InlineData("input: [4]\nloss: mse\nlayers: [{type: linear, out: 2, bias: true, kernal: 3}]", "layer 0 (linear): unknown option 'kernal'")]
    [InlineData("input: [4]\nloss: mse\nlayers: [{type: relu}, {type: linear, out: two}]", "layer 1 (linear): option 'out' must be an integer, got 'two'")]
    [InlineData("input: [4]\nloss: mse\nlayers: [{type: linear, out: 0}]", "layer 0 (linear): option 'out' must be at least 1")]
    [InlineData("input: [1, 5, 5]\nloss: mse\nlayers: [{type: linear, out: 2}]", "layer 0 (linear): linear expects one feature axis per sample but gets [1, 5, 5]; put a flatten layer before it (a sequence [steps, features] is fine).")]
    [InlineData("input: [1, 5, 5]\nloss: mse\nlayers: [{type: conv2d, out: 2, kernel: 4, padding: same}]", "layer 0 (conv2d): padding 'same' needs an odd kernel")]
    [InlineData("input: [1, 5, 5]\nloss: mse\nlayers: [{type: conv2d, out: 2, kernel: 7}]", "layer 0 (conv2d): Kernel 7x7 is larger than the padded input 5x5.")]
    [InlineData("input: [1, 5, 5]\nloss: mse\nlayers: [{type: flatten}, {type: dropout, p: 1.5}]", "layer 1 (dropout): dropout probability p must be in [0, 1)")]
    [InlineData("input: [6]\nloss: mse\nlayers: [{type: maxout, pieces: 4}]", "layer 0 (maxout): pieces 4 must be positive and divide the 6 input features.")]
    [InlineData("input: [6]\nloss: mse\nlayers: [{type: relu, alpha: 0.1}]", "layer 0 (relu): unknown option 'alpha' (it takes no options)")]
    [InlineData("input: [6]\nloss: mse\nlayers: [{type: linear, out: 2, init: glorot}]", "layer 0 (linear): option 'init' must be one of pytorch, xavier")]
    [InlineData("input: [6]\nloss: mse\nlayers: [{type: prelu, per_channel: maybe}]", "layer 0 (prelu): option 'per_channel' must be true or false, got 'maybe'")]
    [InlineData("input: [6]\nloss: mse\nlayers: [{type: linear, out: [2, 3]}]", "layer 0: option 'out' must be a single value")]
    [InlineData("input: [6]\nloss: mse\nlayers: [{out: 3}]", "layer 0: missing 'type'")]
    [InlineData("input: [6]\nloss: mse\nlayers: [relu]", "layer 0: must be a mapping with a 'type' key")]
    [InlineData("input: [6]\nloss: l1\nlayers: [{type: relu}]", "Unknown loss 'l1'; expected one of cross_entropy, bce, mse, hinge, perceptron.")]
    [InlineData("input: [6]\nlayers: [{type: relu}]", "Model spec is missing 'loss'")]
    [InlineData("loss: mse\nlayers: [{type: relu}]", "Model spec is missing 'input'")]
    [InlineData("input: [6, -1]\nloss: mse\nlayers: [{type: relu}]", "input dimension 1 must be a positive integer, got '-1'.")]
    [InlineData("input: [6]\nloss: mse\nlayers: []", "layers must list at least one layer.")]
    [InlineData("input: [6]\nloss: mse\nl2: -1\nlayers: [{type: relu}]", "l2 must be a finite number >= 0")]
    [InlineData("input: [6]\nloss: mse\noptimizer: sgd\nlayers: [{type: relu}]", "Unknown top-level key 'optimizer'")]
    [InlineData("input: [6\nloss: mse", "Model spec is not valid YAML/JSON: the text ends inside a structure")]
    [InlineData("input: [6]\nloss: mse\nlayers: [{type: relu}\n  bad: : :", "Model spec is not valid YAML/JSON at line")]
    [InlineData("- just a list", "Model spec must be one mapping")]
    public void BadSpecsGiveClearErrors(string yaml, string expected)
    {
        var e = Assert.Throws<ModelSpecException>(() => ModelSpec.Parse(yaml));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void ClassLossNeedsSeveralOutputs()
    {
        var spec = ModelSpec.Parse("input: [3]\nloss: cross_entropy\nlayers: [{type: linear, out: 1}]");
        var e = Assert.Throws<ModelSpecException>(() => Model.Create(spec, TestSupport.Cpu(), 4));
        Assert.Contains("cross_entropy needs at least 2 class scores", e.Message);
    }

    [Fact]
    public void LoadReportsAMissingFile()
    {
        var e = Assert.Throws<ModelSpecException>(() => ModelSpec.Load("/nonexistent/spec.yaml"));
        Assert.Contains("/nonexistent/spec.yaml", e.Message);
    }

    [Theory]
    // Trainable counts and full state_dict sizes as printed by PyTorch 1.13 for the equivalent modules (make_fixtures.py's torch_module).
    [InlineData("mlp", 669_706, 669_706, "1.weight", "7.bias")]
    [InlineData("cnn", 34_826, 34_826, "0.weight", "8.bias")]
    [InlineData("vgg-small", 307_946, 308_848, "0.weight", "23.bias")]
    [InlineData("resnet-small", 78_042, 78_723, "0.weight", "8.bias")]
    [InlineData("softmax-regression", 7_850, 7_850, "1.weight", "1.bias")]
    public void PresetsHaveTorchsParameterCounts(string preset, long trainable, int total, string firstName, string lastName)
    {
        var layout = ModelSpec.Preset(preset).CreateLayout();
        Assert.Equal(trainable, layout.TrainableCount);
        Assert.Equal(total, layout.TotalSize);
        Assert.Equal(firstName, layout.Parameters[0].Name);
        Assert.Equal(lastName, layout.Parameters[^1].Name);
    }

    [Fact]
    public void CnnPresetHasTorchsLayouts()
    {
        var layout = ModelSpec.Preset("cnn").CreateLayout();
        Assert.Equal(new Shape(32, 1, 3, 3), layout["0.weight"].Shape);
        Assert.Equal(new Shape(64, 32, 3, 3), layout["3.weight"].Shape);
        Assert.Equal(new Shape(10, 1600), layout["8.weight"].Shape);
    }

    [Fact]
    public void ResnetPresetNamesNestedBlocksLikeTorch()
    {
        var layout = ModelSpec.Preset("resnet-small").CreateLayout();
        Assert.Equal(new Shape(16, 16, 3, 3), layout["3.conv1.weight"].Shape);
        Assert.Equal(ParameterRole.RunningMean, layout["3.bn1.running_mean"].Role);
        Assert.Equal(new Shape(), layout["3.bn2.num_batches_tracked"].Shape);
        Assert.Throws<KeyNotFoundException>(() => layout["3.shortcut.0.weight"]);
        Assert.Equal(new Shape(32, 16, 1, 1), layout["4.shortcut.0.weight"].Shape);
        Assert.Equal(0.1f, layout["4.shortcut.1.running_var"].StatisticMomentum);
    }

    [Theory]
    [InlineData("linear", LossKind.MeanSquaredError, 14)]
    [InlineData("logistic", LossKind.BinaryCrossEntropy, 14)]
    [InlineData("perceptron", LossKind.Perceptron, 14)]
    public void DataSizedPresetsTakeTheInputShape(string preset, LossKind loss, int parameters)
    {
        var spec = ModelSpec.Preset(preset, new Shape(13));
        Assert.Equal(loss, spec.Loss);
        Assert.Equal(parameters, spec.CreateLayout().TotalSize);
        Assert.Equal(new Shape(1), spec.OutputShape);
        var image = ModelSpec.Preset(preset, new Shape(1, 2, 3));
        Assert.Equal("flatten", image.Layers[0].Type);
        var e = Assert.Throws<ModelSpecException>(() => ModelSpec.Preset(preset));
        Assert.Contains("input size from the data", e.Message);
    }

    [Fact]
    public void PresetsTakeTheClassCount()
    {
        Assert.Equal(new Shape(3), ModelSpec.Preset("mlp", classes: 3).OutputShape);
        Assert.Equal(new Shape(100), ModelSpec.Preset("resnet-small", classes: 100).OutputShape);
        Assert.Contains("Unknown preset 'lenet'", Assert.Throws<ModelSpecException>(() => ModelSpec.Preset("lenet")).Message);
        Assert.All(ModelSpec.Presets.Where(p => p is not ("linear" or "logistic" or "perceptron")), p => ModelSpec.Preset(p));
    }
}

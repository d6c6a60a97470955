using ParallelNet.NN.Losses;
using ParallelNet.Tensors;

namespace ParallelNet.NN;

public sealed partial class ModelSpec
{
    /// <summary>Names accepted by <see cref="Preset"/>.</summary>
    public static IReadOnlyList<string> Presets { get; } =
        ["linear", "logistic", "perceptron", "softmax-regression", "mlp", "cnn", "vgg-small", "resnet-small", "lstm"];

    /// <summary>
    /// A built-in model. <paramref name="inputShape"/> is the per-sample shape of the data and
    /// <paramref name="classes"/> the number of classes; both default to the preset's intended data.
    /// <list type="bullet">
    /// <item>linear: [flatten,] linear → 1, loss mse (regression). Needs the input shape.</item>
    /// <item>logistic: [flatten,] linear → 1, loss bce (binary labels 0/1). Needs the input shape.</item>
    /// <item>perceptron: [flatten,] linear → 1, step, loss perceptron (labels 0/1). Needs the input shape.</item>
    /// <item>softmax-regression: [flatten,] linear → classes (10), cross_entropy; input default [1, 28, 28].</item>
    /// <item>mlp: input [1, 28, 28] (MNIST as it comes): flatten, linear 784→512, relu, dropout 0.2, linear 512→512,
    /// relu, dropout 0.2, linear 512→10; 669,706 parameters; torch: the Sequential of torch_mnist.py (names 1.*, 4.*, 7.*).</item>
    /// <item>cnn: exactly torch_mnist.py's network: conv 3x3x32 (no padding), relu, max-pool 2, conv 3x3x64 (no padding),
    /// relu, max-pool 2, flatten, dropout 0.5, linear 1600→10; 34,826 parameters.</item>
    /// <item>vgg-small: input [3, 32, 32]; three stages of two (conv 3x3 same, no bias → batchnorm2d → relu) with
    /// 32, 64, 128 channels, each followed by max-pool 2; flatten, dropout 0.5, linear 2048→10.</item>
    /// <item>resnet-small: input [3, 32, 32]; conv 3x3x16 same (no bias), batchnorm2d, relu, residual blocks 16, 32/2, 64/2,
    /// avg-pool 8 (global), flatten, linear 64→10.</item>
    /// <item>lstm: input [1, 28, 28] read row by row (28 steps of 28 pixels); lstm 128 hidden, linear 128→10 on the last
    /// step; 82,186 parameters; torch: /work/shared/reference/torch_lstm.py's network (names 0.weight_ih_l0 ... 1.bias).</item>
    /// </list>
    /// </summary>
    public static ModelSpec Preset(string name, Shape? inputShape = null, int? classes = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (classes is < 2) throw new ModelSpecException($"classes must be at least 2, got {classes}.");
        int k = classes ?? 10;
        var layers = new List<LayerSpec>();
        switch (name)
        {
            case "linear":
            case "logistic":
            case "perceptron":
            {
                var input = inputShape ?? throw new ModelSpecException($"Preset '{name}' takes its input size from the data: pass the per-sample input shape.");
                if (input.Rank > 1) layers.Add(new LayerSpec("flatten"));
                layers.Add(new LayerSpec("linear", ("out", 1)));
                if (name == "perceptron") layers.Add(new LayerSpec("step"));
                var loss = name switch { "linear" => LossKind.MeanSquaredError, "logistic" => LossKind.BinaryCrossEntropy, _ => LossKind.Perceptron };
                return new ModelSpec(input, layers, loss);
            }
            case "softmax-regression":
            {
                var input = inputShape ?? new Shape(1, 28, 28);
                if (input.Rank > 1) layers.Add(new LayerSpec("flatten"));
                layers.Add(new LayerSpec("linear", ("out", k)));
                return new ModelSpec(input, layers, LossKind.CrossEntropy);
            }
            case "mlp":
            {
                var input = inputShape ?? new Shape(1, 28, 28);
                if (input.Rank > 1) layers.Add(new LayerSpec("flatten"));
                layers.Add(new LayerSpec("linear", ("out", 512)));
                layers.Add(new LayerSpec("relu"));
                layers.Add(new LayerSpec("dropout", ("p", 0.2f)));
                layers.Add(new LayerSpec("linear", ("out", 512)));
                layers.Add(new LayerSpec("relu"));
                layers.Add(new LayerSpec("dropout", ("p", 0.2f)));
                layers.Add(new LayerSpec("linear", ("out", k)));
                return new ModelSpec(input, layers, LossKind.CrossEntropy);
            }
            case "cnn":
            {
                var input = inputShape ?? new Shape(1, 28, 28);
                layers.Add(new LayerSpec("conv2d", ("out", 32), ("kernel", 3)));
                layers.Add(new LayerSpec("relu"));
                layers.Add(new LayerSpec("maxpool2d", ("kernel", 2)));
                layers.Add(new LayerSpec("conv2d", ("out", 64), ("kernel", 3)));
                layers.Add(new LayerSpec("relu"));
                layers.Add(new LayerSpec("maxpool2d", ("kernel", 2)));
                layers.Add(new LayerSpec("flatten"));
                layers.Add(new LayerSpec("dropout", ("p", 0.5f)));
                layers.Add(new LayerSpec("linear", ("out", k)));
                return new ModelSpec(input, layers, LossKind.CrossEntropy);
            }
            case "vgg-small":
            {
                var input = inputShape ?? new Shape(3, 32, 32);
                foreach (int channels in new[] { 32, 64, 128 })
                {
                    for (int repeat = 0; repeat < 2; repeat++)
                    {
                        layers.Add(new LayerSpec("conv2d", ("out", channels), ("kernel", 3), ("padding", "same"), ("bias", false)));
                        layers.Add(new LayerSpec("batchnorm2d"));
                        layers.Add(new LayerSpec("relu"));
                    }
                    layers.Add(new LayerSpec("maxpool2d", ("kernel", 2)));
                }
                layers.Add(new LayerSpec("flatten"));
                layers.Add(new LayerSpec("dropout", ("p", 0.5f)));
                layers.Add(new LayerSpec("linear", ("out", k)));
                return new ModelSpec(input, layers, LossKind.CrossEntropy);
            }
            case "resnet-small":
            {
                var input = inputShape ?? new Shape(3, 32, 32);
                layers.Add(new LayerSpec("conv2d", ("out", 16), ("kernel", 3), ("padding", "same"), ("bias", false)));
                layers.Add(new LayerSpec("batchnorm2d"));
                layers.Add(new LayerSpec("relu"));
                layers.Add(new LayerSpec("residual", ("out", 16)));
                layers.Add(new LayerSpec("residual", ("out", 32), ("stride", 2)));
                layers.Add(new LayerSpec("residual", ("out", 64), ("stride", 2)));
                if (input.Rank != 3) throw new ModelSpecException($"Preset 'resnet-small' needs an image input [C, H, W], got {input}.");
                layers.Add(new LayerSpec("avgpool2d", ("kernel", (input[1] + 3) / 4)));
                layers.Add(new LayerSpec("flatten"));
                layers.Add(new LayerSpec("linear", ("out", k)));
                return new ModelSpec(input, layers, LossKind.CrossEntropy);
            }
            case "lstm":
            {
                var input = inputShape ?? new Shape(1, 28, 28);
                layers.Add(new LayerSpec("lstm", ("hidden", 128)));
                layers.Add(new LayerSpec("linear", ("out", k)));
                return new ModelSpec(input, layers, LossKind.CrossEntropy);
            }
            default:
                throw new ModelSpecException($"Unknown preset '{name}'; expected one of {string.Join(", ", Presets)}.");
        }
    }
}

using ParallelNet.NN.Layers;
using ParallelNet.Tensors;

namespace ParallelNet.NN.Internal;

/// <summary>Turns a <see cref="ModelSpec"/> into a tree of modules, inferring every shape; no buffers are allocated here.</summary>
internal static class LayerFactory
{
    public static readonly IReadOnlyList<string> LayerTypes =
    [
        "linear", "conv2d", "maxpool2d", "avgpool2d", "flatten", "dropout", "batchnorm1d", "batchnorm2d", "residual",
        "sigmoid", "tanh", "relu", "leaky_relu", "prelu", "rrelu", "softmax", "maxout", "step",
        "embedding", "rnn", "lstm", "word2vec",
    ];

    public static Sequential Build(ModelSpec spec)
    {
        var modules = new List<Module>();
        var shape = spec.Input;
        for (int index = 0; index < spec.Layers.Count; index++)
        {
            if (IsReluBeforeMaxPool(spec, index))
            {
                // max-pool(relu(x)) = relu(max-pool(x)), with the same gradient (the first maximum of a window is
                // the same element either way, and a window whose maximum is not positive passes none), so
                // the ReLU runs on the pooled tensor: a quarter of the elements for a 2x2 pool. Neither layer
                // has parameters, so every parameter keeps its index and name.
                var pool = BuildOne(index + 1, spec.Layers[index + 1], shape);
                var relu = BuildOne(index, spec.Layers[index], pool.OutputShape);
                modules.Add(pool);
                modules.Add(relu);
                shape = relu.OutputShape;
                index++;
                continue;
            }
            var module = BuildOne(index, spec.Layers[index], shape);
            modules.Add(module);
            shape = module.OutputShape;
        }
        return new Sequential(spec.Input, modules);
    }

    private static bool IsReluBeforeMaxPool(ModelSpec spec, int index) =>
        index + 1 < spec.Layers.Count && spec.Layers[index].Type == "relu" && spec.Layers[index + 1].Type == "maxpool2d";

    private static Module BuildOne(int index, LayerSpec layer, Shape input)
    {
        var o = new OptionReader(index, layer);
        Module module;
        try
        {
            module = Create(index, layer.Type, o, input);
        }
        catch (ArgumentException e)
        {
            throw o.Error($"{e.Message} (input shape {input})");
        }
        o.RejectUnknown();
        if (module.OutputShape.Size == 0) throw o.Error($"produces an empty output {module.OutputShape} from input {input}.");
        return module;
    }

    private static Module Create(int index, string type, OptionReader o, Shape input)
    {
        switch (type)
        {
            case "linear":
                return new Linear(input, o.Int("out", min: 1), o.Bool("bias", true), o.Init());
            case "conv2d":
            {
                int outChannels = o.Int("out", min: 1), kernel = o.Int("kernel", min: 1), stride = o.Int("stride", 1, min: 1);
                int padding = ConvPadding(o, kernel, stride);
                return new Conv2d(input, outChannels, kernel, stride, padding, o.Bool("bias", true), o.Init());
            }
            case "maxpool2d" or "avgpool2d":
            {
                int kernel = o.Int("kernel", min: 1);
                return new Pool2d(input, type == "maxpool2d", kernel, o.Int("stride", kernel, min: 1), o.Int("padding", 0, min: 0));
            }
            case "flatten":
                return new Flatten(input);
            case "dropout":
                return new Dropout(input, o.Float("p", 0.5f), index);
            case "batchnorm1d" or "batchnorm2d":
                return new BatchNorm(input, type == "batchnorm2d", o.Float("eps", 1e-5f), o.Float("momentum", 0.1f));
            case "residual":
                return new ResidualBlock(input, o.Int("out", min: 1), o.Int("stride", 1, min: 1), o.Init(), o.Float("eps", 1e-5f), o.Float("momentum", 0.1f));
            case "sigmoid":
                return new Activation(input, ActivationKind.Sigmoid);
            case "tanh":
                return new Activation(input, ActivationKind.Tanh);
            case "relu":
                return new Activation(input, ActivationKind.Relu);
            case "leaky_relu":
                return new Activation(input, ActivationKind.LeakyRelu, o.Float("alpha", 0.01f));
            case "prelu":
                return new PRelu(input, o.Bool("per_channel", false), o.Float("init", 0.25f));
            case "rrelu":
                return new RRelu(input, o.Float("lower", 1f / 8f), o.Float("upper", 1f / 3f), index);
            case "softmax":
                return new Softmax(input);
            case "maxout":
                return new Maxout(input, o.Int("pieces", min: 1));
            case "step":
                return new StepFunction(input);
            case "embedding":
                return new Embedding(input, o.Int("vocabulary", min: 1), o.Int("dim", min: 1));
            case "rnn":
                return new Rnn(input, o.Int("hidden", min: 1), o.Bool("return_sequences", false), o.Int("truncate", 0, min: 0));
            case "lstm":
                return new Lstm(input, o.Int("hidden", min: 1), o.Bool("return_sequences", false), o.Int("truncate", 0, min: 0));
            case "word2vec":
                return new Word2VecScores(input, o.Int("vocabulary", min: 2), o.Int("dim", min: 1), o.Int("contexts", 1, min: 1));
            default:
                throw o.Error($"unknown layer type; expected one of {string.Join(", ", LayerTypes)}.");
        }
    }

    private static int ConvPadding(OptionReader o, int kernel, int stride)
    {
        string? text = o.Raw("padding");
        if (text != "same") return o.Int("padding", 0, min: 0);
        if (kernel % 2 == 0) throw o.Error($"padding 'same' needs an odd kernel, got {kernel}; give an explicit padding instead.");
        if (stride != 1) throw o.Error($"padding 'same' needs stride 1 (as in PyTorch), got stride {stride}; give an explicit padding instead.");
        return (kernel - 1) / 2;
    }
}

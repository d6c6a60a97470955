using ParallelNet.NN.Internal;
using ParallelNet.NN.Losses;
using ParallelNet.Tensors;

namespace ParallelNet.NN;

/// <summary>
/// A model description: per-sample input shape, a list of layers (a torch.nn.Sequential), the loss
/// and the L2 strength. Written as YAML (JSON is accepted too, being YAML's flow style), e.g.
/// <code>
/// input: [1, 28, 28]
/// loss: cross_entropy        # cross_entropy | bce | mse | hinge | perceptron
/// l2: 0                      # lambda of the penalty lambda/2 Σ w² over weights (not biases)
/// layers:
///   - type: flatten
///   - type: linear
///     out: 512
///   - type: relu
///   - type: dropout
///     p: 0.2
/// </code>
/// Layer types and options (default in parentheses):
/// linear: out, bias (true), init (pytorch | xavier | he | he_uniform | normal | zeros);
/// conv2d: out, kernel, stride (1), padding (0, or "same" for odd kernels at stride 1), bias (true), init;
/// maxpool2d, avgpool2d: kernel, stride (kernel), padding (0);
/// flatten; dropout: p (0.5); batchnorm1d, batchnorm2d: eps (1e-5), momentum (0.1);
/// residual: out, stride (1), init, eps, momentum (a ResNet basic block);
/// sigmoid; tanh; relu; leaky_relu: alpha (0.01); prelu: per_channel (false), init (0.25);
/// rrelu: lower (0.125), upper (0.333...); softmax; maxout: pieces; step;
/// embedding: vocabulary, dim (input [T] token ids stored as floats → [T, dim]);
/// rnn (tanh), lstm: hidden, return_sequences (false: the last step's [hidden]; true: every step's [T, hidden]),
/// truncate (0: full backpropagation through time; k: the state's gradient is cut every k steps). They read
/// [T, features] per sample, or a one-channel image [1, rows, cols] row by row; a linear layer after
/// return_sequences maps every step (many-to-many).
/// </summary>
public sealed partial class ModelSpec
{
    public ModelSpec(Shape input, IEnumerable<LayerSpec> layers, LossKind loss, float l2 = 0f)
    {
        ArgumentNullException.ThrowIfNull(layers);
        Input = input;
        Layers = layers.ToArray();
        Loss = loss;
        L2 = l2;
        Validate();
    }

    /// <summary>Per-sample input shape, e.g. [1, 28, 28].</summary>
    public Shape Input { get; }
    public IReadOnlyList<LayerSpec> Layers { get; }
    public LossKind Loss { get; }

    /// <summary>L2 strength lambda: the step adds lambda/2 Σ w² to the loss and lambda·w to the averaged gradient of every Weight.</summary>
    public float L2 { get; }

    /// <summary>Every layer type a spec may use (the <c>type</c> values).</summary>
    public static IReadOnlyList<string> LayerTypes => LayerFactory.LayerTypes;

    /// <summary>Parses YAML or JSON; throws <see cref="ModelSpecException"/> naming what is wrong.</summary>
    public static ModelSpec Parse(string text) => SpecYaml.Parse(text);

    /// <summary>Reads a spec file (.yaml, .yml or .json).</summary>
    public static ModelSpec Load(string path)
    {
        if (!File.Exists(path)) throw new ModelSpecException($"Model spec file '{path}' does not exist.");
        return Parse(File.ReadAllText(path));
    }

    /// <summary>The spec as YAML; <see cref="Parse"/> of it gives an equal spec (this text is stored in checkpoints).</summary>
    public string ToYaml() => SpecYaml.Emit(this);

    /// <summary>The per-sample output shape of the last layer.</summary>
    public Shape OutputShape => LayerFactory.Build(this).OutputShape;

    /// <summary>Names, shapes, offsets and roles of all parameters (PyTorch state_dict order), without allocating them.</summary>
    public ParameterLayout CreateLayout()
    {
        var registry = new ParameterRegistry();
        LayerFactory.Build(this).DeclareParameters(registry, "");
        return registry.ToLayout();
    }

    public override string ToString() => ToYaml();

    private void Validate()
    {
        if (Input.Rank == 0 || Input.Size == 0) throw new ModelSpecException($"input shape must have at least one non-zero dimension, got {Input}.");
        if (Layers.Count == 0) throw new ModelSpecException("layers must list at least one layer.");
        if (!(L2 >= 0f) || float.IsInfinity(L2)) throw new ModelSpecException($"l2 must be a finite number >= 0, got {L2}.");
        LayerFactory.Build(this);
    }
}

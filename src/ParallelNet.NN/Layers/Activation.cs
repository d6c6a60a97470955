using ParallelNet.NN.Internal;
using ParallelNet.Tensors;

namespace ParallelNet.NN.Layers;

/// <summary>An elementwise activation without parameters: Sigmoid, Tanh, ReLU or LeakyReLU(alpha) (PyTorch nn.*).</summary>
internal sealed class Activation : Module
{
    private ICompute _compute = null!;
    private BatchBuffer _output = null!, _inputGradient = null!;
    private Tensor _input = null!, _result = null!;

    public Activation(Shape inputShape, ActivationKind kind, float alpha = 0f) : base(inputShape)
    {
        if (kind is ActivationKind.Step or ActivationKind.Identity) throw new ArgumentException($"Use the dedicated layer for {kind}.", nameof(kind));
        Kind = kind;
        Alpha = alpha;
    }

    public ActivationKind Kind { get; }
    public float Alpha { get; }
    public override Shape OutputShape => InputShape;
    public override bool RowIndependent => true;

    public override void Bind(ICompute compute, int maxBatch)
    {
        _compute = compute;
        _output = new BatchBuffer(compute, maxBatch, InputShape);
        _inputGradient = new BatchBuffer(compute, maxBatch, InputShape);
    }

    // forward: x [n, ...] -> y [n, ...] = f(x)
    public override Tensor Forward(Tensor x, in PassContext context)
    {
        _input = x;
        _result = _output.Rows(x.Shape[0]);
        _compute.ActivationForward(Kind, Alpha, x, _result);
        return _result;
    }

    // backward: dy [n, ...] -> dx = dy * f'(x)
    public override Tensor? Backward(Tensor dy, bool needInputGradient)
    {
        if (!needInputGradient) return null;
        var dx = _inputGradient.Rows(dy.Shape[0]);
        _compute.ActivationBackward(Kind, Alpha, _input, _result, dy, dx);
        return dx;
    }
}

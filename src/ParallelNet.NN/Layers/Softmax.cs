using ParallelNet.NN.Internal;
using ParallelNet.Tensors;

namespace ParallelNet.NN.Layers;

/// <summary>Softmax over the features of each sample, PyTorch nn.Softmax(dim=1) on [n, features].</summary>
internal sealed class Softmax : Module
{
    private ICompute _compute = null!;
    private BatchBuffer _output = null!, _inputGradient = null!;
    private Tensor _result = null!;

    public Softmax(Shape inputShape) : base(inputShape)
    {
        if (inputShape.Rank != 1) throw new ArgumentException($"softmax expects one feature axis per sample but gets {inputShape}; put a flatten layer before it.");
    }

    public override Shape OutputShape => InputShape;

    public override void Bind(ICompute compute, int maxBatch)
    {
        _compute = compute;
        _output = new BatchBuffer(compute, maxBatch, InputShape);
        _inputGradient = new BatchBuffer(compute, maxBatch, InputShape);
    }

    // forward: x [n, F] -> y [n, F] = softmax over F
    public override Tensor Forward(Tensor x, in PassContext context)
    {
        _result = _output.Rows(x.Shape[0]);
        _compute.Softmax(x, _result);
        return _result;
    }

    // backward: dy [n, F] -> dx = y * (dy - Σ dy*y)
    public override Tensor? Backward(Tensor dy, bool needInputGradient)
    {
        if (!needInputGradient) return null;
        var dx = _inputGradient.Rows(dy.Shape[0]);
        _compute.SoftmaxBackward(_result, dy, dx);
        return dx;
    }
}

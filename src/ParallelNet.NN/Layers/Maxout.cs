using ParallelNet.NN.Internal;
using ParallelNet.Tensors;

namespace ParallelNet.NN.Layers;

/// <summary>
/// Maxout (Goodfellow et al. 2013): features [units * pieces] -> [units], the maximum over each group
/// of <c>pieces</c> consecutive features. PyTorch equivalent: x.view(n, units, pieces).max(dim=2).values.
/// </summary>
internal sealed class Maxout : Module
{
    private ICompute _compute = null!;
    private BatchBuffer _output = null!, _inputGradient = null!;
    private Tensor _input = null!;

    public Maxout(Shape inputShape, int pieces) : base(inputShape)
    {
        if (inputShape.Rank != 1) throw new ArgumentException($"maxout expects one feature axis per sample but gets {inputShape}; put a flatten layer before it.");
        if (pieces < 1 || inputShape[0] % pieces != 0) throw new ArgumentException($"pieces {pieces} must be positive and divide the {inputShape[0]} input features.");
        Pieces = pieces;
    }

    public int Pieces { get; }
    public override Shape OutputShape => new(InputShape[0] / Pieces);

    public override void Bind(ICompute compute, int maxBatch)
    {
        _compute = compute;
        _output = new BatchBuffer(compute, maxBatch, OutputShape);
        _inputGradient = new BatchBuffer(compute, maxBatch, InputShape);
    }

    // forward: x [n, units*pieces] -> y [n, units]
    public override Tensor Forward(Tensor x, in PassContext context)
    {
        _input = x;
        var y = _output.Rows(x.Shape[0]);
        _compute.MaxoutForward(x, y, Pieces);
        return y;
    }

    // backward: dy [n, units] -> dx [n, units*pieces], dy routed to the arg-max piece
    public override Tensor? Backward(Tensor dy, bool needInputGradient)
    {
        if (!needInputGradient) return null;
        var dx = _inputGradient.Rows(dy.Shape[0]);
        _compute.MaxoutBackward(_input, dy, dx, Pieces);
        return dx;
    }
}

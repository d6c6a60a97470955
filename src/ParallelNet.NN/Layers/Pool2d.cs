using ParallelNet.NN.Internal;
using ParallelNet.Tensors;

namespace ParallelNet.NN.Layers;

/// <summary>Max or average pooling, PyTorch nn.MaxPool2d / nn.AvgPool2d (floor mode; average counts padding as zeros).</summary>
internal sealed class Pool2d : Module
{
    private readonly ConvGeometry _geometry;
    private ICompute _compute = null!;
    private BatchBuffer _output = null!, _inputGradient = null!;
    private Tensor _input = null!;

    public Pool2d(Shape inputShape, bool isMax, int kernel, int stride, int padding) : base(inputShape)
    {
        if (inputShape.Rank != 3) throw new ArgumentException($"pooling expects [channels, height, width] per sample but gets {inputShape}.");
        if (padding * 2 > kernel) throw new ArgumentException($"padding {padding} must be at most half the kernel {kernel} (PyTorch's rule).");
        _geometry = new ConvGeometry(inputShape[0], inputShape[1], inputShape[2], kernel, kernel, stride, stride, padding, padding);
        _geometry.Validate();
        IsMax = isMax;
    }

    public bool IsMax { get; }
    public override Shape OutputShape => new(_geometry.Channels, _geometry.OutHeight, _geometry.OutWidth);

    public override void Bind(ICompute compute, int maxBatch)
    {
        _compute = compute;
        _output = new BatchBuffer(compute, maxBatch, OutputShape);
        _inputGradient = new BatchBuffer(compute, maxBatch, InputShape);
    }

    // forward: x [n, C, H, W] -> y [n, C, oh, ow]
    public override Tensor Forward(Tensor x, in PassContext context)
    {
        _input = x;
        var y = _output.Rows(x.Shape[0]);
        if (IsMax) _compute.MaxPool2dForward(x, y, _geometry);
        else _compute.AvgPool2dForward(x, y, _geometry);
        return y;
    }

    // backward: dy [n, C, oh, ow] -> dx [n, C, H, W]
    public override Tensor? Backward(Tensor dy, bool needInputGradient)
    {
        if (!needInputGradient) return null;
        var dx = _inputGradient.Rows(dy.Shape[0]);
        if (IsMax) _compute.MaxPool2dBackward(_input, dy, dx, _geometry);
        else _compute.AvgPool2dBackward(dy, dx, _geometry);
        return dx;
    }
}

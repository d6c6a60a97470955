using ParallelNet.NN.Initializers;
using ParallelNet.NN.Internal;
using ParallelNet.Tensors;

namespace ParallelNet.NN.Layers;

/// <summary>2-D convolution, PyTorch nn.Conv2d: weight [out, in, kh, kw], bias [out], zero padding, NCHW.</summary>
internal sealed class Conv2d : Module
{
    private readonly InitScheme _init;
    private readonly bool _hasBias;
    private readonly ConvGeometry _geometry;
    private ParameterSlot _weight = null!;
    private ParameterSlot? _bias;
    private ICompute _compute = null!;
    private BatchBuffer _output = null!, _inputGradient = null!;
    private Tensor _input = null!;

    public Conv2d(Shape inputShape, int outChannels, int kernel, int stride, int padding, bool bias, InitScheme init) : base(inputShape)
    {
        if (inputShape.Rank != 3) throw new ArgumentException($"conv2d expects [channels, height, width] per sample but gets {inputShape}.");
        _geometry = new ConvGeometry(inputShape[0], inputShape[1], inputShape[2], kernel, kernel, stride, stride, padding, padding);
        _geometry.Validate();
        OutChannels = outChannels;
        _hasBias = bias;
        _init = init;
    }

    public int OutChannels { get; }
    public ConvGeometry Geometry => _geometry;
    public override Shape OutputShape => new(OutChannels, _geometry.OutHeight, _geometry.OutWidth);

    public override void DeclareParameters(ParameterRegistry registry, string prefix)
    {
        int window = _geometry.KernelHeight * _geometry.KernelWidth;
        int fanIn = _geometry.Channels * window, fanOut = OutChannels * window;
        _weight = registry.Add(prefix + "weight", new Shape(OutChannels, _geometry.Channels, _geometry.KernelHeight, _geometry.KernelWidth),
            ParameterRole.Weight, ParameterInit.ForWeight(_init, fanIn, fanOut));
        if (_hasBias) _bias = registry.Add(prefix + "bias", new Shape(OutChannels), ParameterRole.Bias, ParameterInit.ForBias(_init, fanIn));
    }

    public override void Bind(ICompute compute, int maxBatch)
    {
        _compute = compute;
        _output = new BatchBuffer(compute, maxBatch, OutputShape);
        _inputGradient = new BatchBuffer(compute, maxBatch, InputShape);
    }

    // forward: x [n, C, H, W], weight [out, C, kh, kw], bias [out] -> y [n, out, oh, ow]
    public override Tensor Forward(Tensor x, in PassContext context)
    {
        _input = x;
        var y = _output.Rows(x.Shape[0]);
        _compute.Conv2dForward(x, _weight.Value, _bias?.Value, y, _geometry, OutChannels);
        return y;
    }

    // backward: dy [n, out, oh, ow] -> dweight += Σ_n dy ⋆ x, dbias += Σ dy, dx [n, C, H, W]
    public override Tensor? Backward(Tensor dy, bool needInputGradient)
    {
        _compute.Conv2dBackwardFilter(_input, dy, _weight.Gradient, _bias?.Gradient, _geometry, OutChannels);
        if (!needInputGradient) return null;
        var dx = _inputGradient.Rows(dy.Shape[0]);
        _compute.Conv2dBackwardData(dy, _weight.Value, dx, _geometry, OutChannels);
        return dx;
    }
}

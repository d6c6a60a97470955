using ParallelNet.NN.Initializers;
using ParallelNet.NN.Internal;
using ParallelNet.Tensors;

namespace ParallelNet.NN.Layers;

/// <summary>
/// PyTorch nn.PReLU(num_parameters): y = x for x &gt; 0, a·x otherwise, with a learned slope "weight"
/// [num_parameters] (1 shared slope, or one per channel = the first per-sample axis), initialized to 0.25.
/// </summary>
internal sealed class PRelu : Module
{
    private readonly float _initialSlope;
    private ParameterSlot _slope = null!;
    private ICompute _compute = null!;
    private BatchBuffer _output = null!, _inputGradient = null!;
    private Tensor _input = null!;

    public PRelu(Shape inputShape, bool perChannel, float initialSlope) : base(inputShape)
    {
        if (inputShape.Rank == 0) throw new ArgumentException("prelu needs at least one per-sample axis.");
        Channels = perChannel ? inputShape[0] : 1;
        _initialSlope = initialSlope;
    }

    public int Channels { get; }
    public override Shape OutputShape => InputShape;

    public override void DeclareParameters(ParameterRegistry registry, string prefix) =>
        _slope = registry.Add(prefix + "weight", new Shape(Channels), ParameterRole.Slope, ParameterInit.Constant(_initialSlope));

    public override void Bind(ICompute compute, int maxBatch)
    {
        _compute = compute;
        _output = new BatchBuffer(compute, maxBatch, InputShape);
        _inputGradient = new BatchBuffer(compute, maxBatch, InputShape);
    }

    // forward: x [n, C, ...], slope [C] (or [1]) -> y [n, C, ...]
    public override Tensor Forward(Tensor x, in PassContext context)
    {
        _input = x;
        var y = _output.Rows(x.Shape[0]);
        _compute.PReluForward(x, _slope.Value, y, Channels);
        return y;
    }

    // backward: dy [n, C, ...] -> dx [n, C, ...], dslope [C] += Σ dy * x over x <= 0
    public override Tensor? Backward(Tensor dy, bool needInputGradient)
    {
        // The kernel computes dx and dslope together; dx is simply not returned when unneeded.
        var dx = _inputGradient.Rows(dy.Shape[0]);
        _compute.PReluBackward(_input, _slope.Value, dy, dx, _slope.Gradient, Channels);
        return needInputGradient ? dx : null;
    }
}

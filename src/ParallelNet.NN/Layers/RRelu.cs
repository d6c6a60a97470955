using ParallelNet.NN.Internal;
using ParallelNet.Tensors;
using ParallelNet.Tensors.Random;

namespace ParallelNet.NN.Layers;

/// <summary>
/// Randomized leaky ReLU, PyTorch nn.RReLU(lower, upper): in training each negative element gets a
/// slope uniform in [lower, upper] from RandomStream.For(seed, RRelu, epoch, step, layerIndex) at the
/// sample's global-batch position (worker-independent, like dropout); in eval the slope is (lower + upper) / 2.
/// </summary>
internal sealed class RRelu : Module
{
    private readonly int _layerIndex;
    private ICompute _compute = null!;
    private BatchBuffer _output = null!, _slopes = null!, _inputGradient = null!;
    private Tensor _input = null!, _result = null!;
    private bool _training;

    public RRelu(Shape inputShape, float lower, float upper, int layerIndex) : base(inputShape)
    {
        if (!(lower >= 0f && lower <= upper)) throw new ArgumentException($"rrelu needs 0 <= lower <= upper, got lower={lower} upper={upper}.");
        Lower = lower;
        Upper = upper;
        _layerIndex = layerIndex;
    }

    public float Lower { get; }
    public float Upper { get; }
    public float EvalSlope => (Lower + Upper) / 2f;
    public override Shape OutputShape => InputShape;

    public override void Bind(ICompute compute, int maxBatch)
    {
        _compute = compute;
        _output = new BatchBuffer(compute, maxBatch, InputShape);
        _slopes = new BatchBuffer(compute, maxBatch, InputShape);
        _inputGradient = new BatchBuffer(compute, maxBatch, InputShape);
    }

    // forward: x [n, ...] -> y [n, ...]; training also fills slopes [n, ...]
    public override Tensor Forward(Tensor x, in PassContext context)
    {
        int n = x.Shape[0];
        _input = x;
        _training = context.Training;
        _result = _output.Rows(n);
        if (_training)
        {
            var step = context.Step;
            var stream = RandomStream.For(step.Seed, RandomPurpose.RRelu, step.Epoch, step.Step, _layerIndex);
            _compute.RReluForwardTraining(x, _result, _slopes.Rows(n), Lower, Upper, stream, step.FirstSample);
        }
        else
        {
            _compute.ActivationForward(ActivationKind.LeakyRelu, EvalSlope, x, _result);
        }
        return _result;
    }

    // backward: dy [n, ...] -> dx = dy * (x > 0 ? 1 : slope)
    public override Tensor? Backward(Tensor dy, bool needInputGradient)
    {
        if (!needInputGradient) return null;
        int n = dy.Shape[0];
        var dx = _inputGradient.Rows(n);
        if (_training) _compute.RReluBackward(_input, _slopes.Rows(n), dy, dx);
        else _compute.ActivationBackward(ActivationKind.LeakyRelu, EvalSlope, _input, _result, dy, dx);
        return dx;
    }
}

using ParallelNet.NN.Internal;
using ParallelNet.Tensors;
using ParallelNet.Tensors.Random;

namespace ParallelNet.NN.Layers;

/// <summary>
/// Inverted dropout (PyTorch nn.Dropout): in training each element is kept with probability 1 - p and
/// scaled by 1/(1 - p); in eval it is the identity. The mask of a sample is drawn from
/// RandomStream.For(seed, Dropout, epoch, step, layerIndex) at the sample's position in the global
/// batch, so it is the same on whichever worker computes that sample.
/// </summary>
internal sealed class Dropout : Module
{
    private readonly int _layerIndex;
    private ICompute _compute = null!;
    private BatchBuffer _output = null!, _mask = null!, _inputGradient = null!;
    private bool _maskActive;

    public Dropout(Shape inputShape, float probability, int layerIndex) : base(inputShape)
    {
        if (!(probability >= 0f && probability < 1f)) throw new ArgumentException($"dropout probability p must be in [0, 1), got {probability}.");
        Probability = probability;
        _layerIndex = layerIndex;
    }

    public float Probability { get; }
    public override Shape OutputShape => InputShape;
    public override bool RowIndependent => true;

    public override void Bind(ICompute compute, int maxBatch)
    {
        _compute = compute;
        _output = new BatchBuffer(compute, maxBatch, InputShape);
        _mask = new BatchBuffer(compute, maxBatch, InputShape);
        _inputGradient = new BatchBuffer(compute, maxBatch, InputShape);
    }

    // forward: x [n, ...] -> y [n, ...] = x * mask (training), x (eval)
    public override Tensor Forward(Tensor x, in PassContext context)
    {
        _maskActive = context.Training && Probability > 0f;
        if (!_maskActive) return x;
        int n = x.Shape[0];
        var step = context.Step;
        var stream = RandomStream.For(step.Seed, RandomPurpose.Dropout, step.Epoch, step.Step, _layerIndex);
        var y = _output.Rows(n);
        _compute.DropoutForward(x, y, _mask.Rows(n), Probability, stream, step.FirstSample);
        return y;
    }

    // backward: dy [n, ...] -> dx = dy * mask
    public override Tensor? Backward(Tensor dy, bool needInputGradient)
    {
        if (!needInputGradient) return null;
        if (!_maskActive) return dy;
        int n = dy.Shape[0];
        var dx = _inputGradient.Rows(n);
        _compute.Multiply(dy, _mask.Rows(n), dx);
        return dx;
    }
}

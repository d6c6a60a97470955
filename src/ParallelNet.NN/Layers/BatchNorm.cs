using ParallelNet.NN.Initializers;
using ParallelNet.NN.Internal;
using ParallelNet.Tensors;

namespace ParallelNet.NN.Layers;

/// <summary>
/// Batch normalization, PyTorch nn.BatchNorm1d (per sample [C] or [C, L]) and nn.BatchNorm2d ([C, H, W]).
/// Parameters in state_dict order: weight (gamma, 1), bias (beta, 0), running_mean (0), running_var (1),
/// num_batches_tracked (0). Training normalizes with the shard's own statistics and, as
/// <see cref="ParameterRole.RunningMean"/> describes, adds count·mean, count·unbiased variance and count
/// into the gradient slots of the running statistics and of num_batches_tracked, so after the
/// fixed-tree sum and the division by the batch size the optimizer stage sees the sample-weighted
/// batch statistics (and 1 for the counter). Eval normalizes with the running statistics.
/// </summary>
internal sealed class BatchNorm : Module
{
    private ParameterSlot _gamma = null!, _beta = null!, _runningMean = null!, _runningVariance = null!, _batchCount = null!;
    private ICompute _compute = null!;
    private BatchBuffer _output = null!, _inputGradient = null!;
    private Tensor _savedMean = null!, _savedInvStd = null!, _unbiasedVariance = null!, _one = null!;
    private EvalBackwardBuffers? _evalBuffers;
    private int _maxBatch;
    private Tensor _input = null!;
    private bool _training;

    public BatchNorm(Shape inputShape, bool twoDimensional, float epsilon, float momentum) : base(inputShape)
    {
        if (twoDimensional && inputShape.Rank != 3) throw new ArgumentException($"batchnorm2d expects [channels, height, width] per sample but gets {inputShape}.");
        if (!twoDimensional && inputShape.Rank is not (1 or 2)) throw new ArgumentException($"batchnorm1d expects [features] or [channels, length] per sample but gets {inputShape}.");
        if (!(epsilon > 0f)) throw new ArgumentException($"eps must be positive, got {epsilon}.");
        if (!(momentum > 0f && momentum <= 1f)) throw new ArgumentException($"momentum must be in (0, 1], got {momentum}.");
        Channels = inputShape[0];
        Epsilon = epsilon;
        Momentum = momentum;
    }

    public int Channels { get; }
    public float Epsilon { get; }
    public float Momentum { get; }
    public override Shape OutputShape => InputShape;

    public override void DeclareParameters(ParameterRegistry registry, string prefix)
    {
        var channels = new Shape(Channels);
        _gamma = registry.Add(prefix + "weight", channels, ParameterRole.Gamma, ParameterInit.Constant(1f));
        _beta = registry.Add(prefix + "bias", channels, ParameterRole.Beta, ParameterInit.Constant(0f));
        _runningMean = registry.Add(prefix + "running_mean", channels, ParameterRole.RunningMean, ParameterInit.Constant(0f), Momentum);
        _runningVariance = registry.Add(prefix + "running_var", channels, ParameterRole.RunningVariance, ParameterInit.Constant(1f), Momentum);
        _batchCount = registry.Add(prefix + "num_batches_tracked", new Shape(), ParameterRole.BatchCount, ParameterInit.Constant(0f));
    }

    public override void Bind(ICompute compute, int maxBatch)
    {
        _compute = compute;
        _maxBatch = maxBatch;
        _output = new BatchBuffer(compute, maxBatch, InputShape);
        _inputGradient = new BatchBuffer(compute, maxBatch, InputShape);
        _savedMean = compute.Allocate(new Shape(Channels));
        _savedInvStd = compute.Allocate(new Shape(Channels));
        _unbiasedVariance = compute.Allocate(new Shape(Channels));
        _one = compute.Allocate(new Shape());
        compute.Fill(_one, 1f);
    }

    // forward: x [n, C, ...], gamma [C], beta [C] -> y [n, C, ...]; training saves mean and 1/std [C]
    public override Tensor Forward(Tensor x, in PassContext context)
    {
        int n = x.Shape[0];
        _input = x;
        _training = context.Training;
        var y = _output.Rows(n);
        if (_training)
        {
            if (n * (InputShape.Size / Channels) < 2)
                throw new InvalidOperationException($"Batch norm in training needs more than one value per channel, but a shard of {n} sample(s) of shape {InputShape} gives one (PyTorch refuses this too); use shards of at least 2 samples.");
            _compute.BatchNormForwardTraining(x, _gamma.Value, _beta.Value, y, _savedMean, _savedInvStd, _unbiasedVariance, Channels, Epsilon);
        }
        else
        {
            _compute.BatchNormForwardInference(x, _gamma.Value, _beta.Value, _runningMean.Value, _runningVariance.Value, y, Channels, Epsilon);
        }
        return y;
    }

    // backward: dy [n, C, ...] -> dx [n, C, ...], dgamma [C] += Σ dy x̂, dbeta [C] += Σ dy; training also carries the statistics
    public override Tensor? Backward(Tensor dy, bool needInputGradient)
    {
        int n = dy.Shape[0];
        var dx = _inputGradient.Rows(n);
        if (_training)
        {
            _compute.BatchNormBackward(_input, dy, _gamma.Value, _savedMean, _savedInvStd, dx, _gamma.Gradient, _beta.Gradient, Channels);
            _compute.Axpy(n, _savedMean, _runningMean.Gradient);
            _compute.Axpy(n, _unbiasedVariance, _runningVariance.Gradient);
            _compute.Axpy(n, _one, _batchCount.Gradient);
        }
        else
        {
            BackwardEval(dy, dx);
        }
        return needInputGradient ? dx : null;
    }

    /// <summary>
    /// In eval mode the layer is a fixed per-channel affine map y = gamma·x̂ + beta with
    /// x̂ = (x - running_mean)/sqrt(running_var + eps), so dx = gamma/sqrt(running_var + eps)·dy; both are
    /// the inference kernel applied with zero mean or unit gamma. Used only when differentiating an eval pass.
    /// </summary>
    private void BackwardEval(Tensor dy, Tensor dx)
    {
        var b = _evalBuffers ??= new EvalBackwardBuffers(_compute, _maxBatch, InputShape, Channels);
        int n = dy.Shape[0];
        var normalized = b.Normalized.Rows(n);
        var product = b.Product.Rows(n);
        _compute.BatchNormForwardInference(_input, b.Ones, b.Zeros, _runningMean.Value, _runningVariance.Value, normalized, Channels, Epsilon);
        _compute.Multiply(dy, normalized, product);
        _compute.AccumulateChannelSums(product, _gamma.Gradient, Channels);
        _compute.AccumulateChannelSums(dy, _beta.Gradient, Channels);
        _compute.BatchNormForwardInference(dy, _gamma.Value, b.Zeros, b.Zeros, _runningVariance.Value, dx, Channels, Epsilon);
    }

    private sealed class EvalBackwardBuffers
    {
        public EvalBackwardBuffers(ICompute compute, int maxBatch, Shape perSample, int channels)
        {
            Normalized = new BatchBuffer(compute, maxBatch, perSample);
            Product = new BatchBuffer(compute, maxBatch, perSample);
            Ones = compute.Allocate(new Shape(channels));
            compute.Fill(Ones, 1f);
            Zeros = compute.Allocate(new Shape(channels));
        }

        public BatchBuffer Normalized { get; }
        public BatchBuffer Product { get; }
        public Tensor Ones { get; }
        public Tensor Zeros { get; }
    }
}

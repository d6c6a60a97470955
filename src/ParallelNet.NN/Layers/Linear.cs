using ParallelNet.NN.Initializers;
using ParallelNet.NN.Internal;
using ParallelNet.Tensors;

namespace ParallelNet.NN.Layers;

/// <summary>Fully connected layer, PyTorch nn.Linear: y = x Wᵀ + b with W [out, in].</summary>
internal sealed class Linear : Module
{
    private readonly InitScheme _init;
    private readonly bool _hasBias;
    private ParameterSlot _weight = null!;
    private ParameterSlot? _bias;
    private ICompute _compute = null!;
    private BatchBuffer _output = null!, _inputGradient = null!;
    private Tensor _input = null!;
    // Each shard's bias gradient before their tree sum (allocated for the first batched pass of that many shards).
    private Tensor[] _shardBiasGradients = [];

    public Linear(Shape inputShape, int outFeatures, bool bias, InitScheme init) : base(inputShape)
    {
        // [steps, features] (a recurrent layer's many-to-many output) is mapped step by step, as nn.Linear does on the last axis.
        if (inputShape.Rank is not (1 or 2)) throw new ArgumentException($"linear expects one feature axis per sample but gets {inputShape}; put a flatten layer before it (a sequence [steps, features] is fine).");
        InFeatures = inputShape[-1];
        OutFeatures = outFeatures;
        _hasBias = bias;
        _init = init;
    }

    public int InFeatures { get; }
    public int OutFeatures { get; }
    public override Shape OutputShape => InputShape.Rank == 1 ? new(OutFeatures) : new(InputShape[0], OutFeatures);
    public override bool RowIndependent => InputShape.Rank == 1;

    public override void DeclareParameters(ParameterRegistry registry, string prefix)
    {
        _weight = registry.Add(prefix + "weight", new Shape(OutFeatures, InFeatures), ParameterRole.Weight, ParameterInit.ForWeight(_init, InFeatures, OutFeatures));
        if (_hasBias) _bias = registry.Add(prefix + "bias", new Shape(OutFeatures), ParameterRole.Bias, ParameterInit.ForBias(_init, InFeatures));
    }

    public override void Bind(ICompute compute, int maxBatch)
    {
        _compute = compute;
        _output = new BatchBuffer(compute, maxBatch, OutputShape);
        _inputGradient = new BatchBuffer(compute, maxBatch, InputShape);
    }

    // forward: x [n, in], weight [out, in], bias [out] -> y [n, out]; n counts rows (samples × steps for sequences)
    public override Tensor Forward(Tensor x, in PassContext context)
    {
        int n = x.Length / InFeatures;
        _input = x;
        var y = _output.Rows(x.Shape[0]);
        if (context.Shards is { } shards)
            _compute.GemmRowBlocks(shards.Rows, true, OutFeatures, InFeatures, 1f, x, _weight.Value, 0f, y);
        else
            _compute.Gemm(false, true, n, OutFeatures, InFeatures, 1f, x, _weight.Value, 0f, y);
        if (_bias is not null) _compute.AddRowBias(y, _bias.Value);
        return y;
    }

    // backward: dy [n, out] -> dweight [out, in] += dyᵀ x, dbias [out] += Σ_n dy, dx [n, in] = dy W
    public override Tensor? Backward(Tensor dy, bool needInputGradient)
    {
        int n = dy.Length / OutFeatures;
        _compute.Gemm(true, false, OutFeatures, InFeatures, n, 1f, dy, _input, 1f, _weight.Gradient);
        if (_bias is not null) _compute.AccumulateColumnSums(dy, _bias.Gradient);
        if (!needInputGradient) return null;
        var dx = _inputGradient.Rows(dy.Shape[0]);
        _compute.Gemm(false, false, n, InFeatures, OutFeatures, 1f, dy, _weight.Value, 0f, dx);
        return dx;
    }

    // The same per shard: dweight and dbias of each shard into its own buffer, dx of all shards in one product.
    public override Tensor? BackwardShards(Tensor dy, bool needInputGradient, ShardSegments shards)
    {
        if (shards.SumAlongTree) WriteGradientTreeSums(dy, shards);
        else AddGradientsPerShard(dy, shards);
        if (!needInputGradient) return null;
        var dx = _inputGradient.Rows(dy.Shape[0]);
        _compute.GemmRowBlocks(shards.Rows, false, InFeatures, OutFeatures, 1f, dy, _weight.Value, 0f, dx);
        return dx;
    }

    private void AddGradientsPerShard(Tensor dy, ShardSegments shards)
    {
        for (int s = 0; s < shards.Count; s++)
        {
            int rows = shards.RowsOf(s);
            if (rows == 0) continue;
            shards.SelectGradients(s);
            var shardDy = shards.Slice(dy, s);
            _compute.Gemm(true, false, OutFeatures, InFeatures, rows, 1f, shardDy, shards.Slice(_input, s), 1f, _weight.Gradient);
            if (_bias is not null) _compute.AccumulateColumnSums(shardDy, _bias.Gradient);
        }
    }

    // The same adds as per-shard buffers summed along the tree: dweight in one fused product, dbias per shard then summed.
    private void WriteGradientTreeSums(Tensor dy, ShardSegments shards)
    {
        _compute.GemmTransposedBlockTree(shards.Rows, OutFeatures, InFeatures, dy, _input, _weight.Gradient);
        if (_bias is null) return;
        if (_shardBiasGradients.Length != shards.Count)
            _shardBiasGradients = Enumerable.Range(0, shards.Count).Select(_ => _compute.Allocate(new Shape(OutFeatures))).ToArray();
        for (int s = 0; s < shards.Count; s++)
        {
            _compute.Fill(_shardBiasGradients[s], 0f);
            if (shards.RowsOf(s) > 0) _compute.AccumulateColumnSums(shards.Slice(dy, s), _shardBiasGradients[s]);
        }
        _compute.AddTree(_shardBiasGradients, 0, shards.Count);
        _compute.Copy(_shardBiasGradients[0], _bias.Gradient);
    }
}

using ParallelNet.NN.Initializers;
using ParallelNet.NN.Internal;
using ParallelNet.Tensors;

namespace ParallelNet.NN.Layers;

/// <summary>
/// torch.nn.Embedding: a trained lookup table weight [vocabulary, dim], initialized N(0, 1) like PyTorch. A sample is
/// [T] token ids (stored as floats) and becomes [T, dim]. Only the rows of ids in the shard get a gradient.
/// </summary>
internal sealed class Embedding : Module
{
    private ParameterSlot _table = null!;
    private ICompute _compute = null!;
    private BatchBuffer _output = null!, _inputGradient = null!;
    private Tensor _ids = null!;

    public Embedding(Shape inputShape, int vocabulary, int dimension) : base(inputShape)
    {
        if (inputShape.Rank != 1) throw new ArgumentException($"embedding reads [tokens] ids per sample, got {inputShape}.");
        Vocabulary = vocabulary;
        Dimension = dimension;
    }

    public int Vocabulary { get; }
    public int Dimension { get; }
    public override Shape OutputShape => new(InputShape[0], Dimension);

    public override void DeclareParameters(ParameterRegistry registry, string prefix)
        => _table = registry.Add(prefix + "weight", new Shape(Vocabulary, Dimension), ParameterRole.Weight, new ParameterInit(InitDistribution.Normal, 1f), rowSparse: true);

    public override void Bind(ICompute compute, int maxBatch)
    {
        _compute = compute;
        _output = new BatchBuffer(compute, maxBatch, OutputShape);
        _inputGradient = new BatchBuffer(compute, maxBatch, InputShape);
    }

    // forward: ids [n, T] -> y [n, T, dim] = weight[ids]
    public override Tensor Forward(Tensor x, in PassContext context)
    {
        _ids = x;
        var y = _output.Rows(x.Shape[0]);
        _compute.EmbeddingForward(x, _table.Value, y);
        return y;
    }

    // backward: dweight[ids[r]] += dy[r]; ids are not differentiable, so their "gradient" is zero (as PyTorch has none)
    public override Tensor? Backward(Tensor dy, bool needInputGradient)
    {
        _compute.EmbeddingBackward(_ids, dy, _table.Gradient);
        if (!needInputGradient) return null;
        // Never written: the buffer stays as allocated, zeros.
        return _inputGradient.Rows(_ids.Shape[0]);
    }
}

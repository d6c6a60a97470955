using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using ParallelNet.NN.Initializers;
using ParallelNet.NN.Internal;
using ParallelNet.Tensors;

namespace ParallelNet.NN.Layers;

/// <summary>
/// word2vec's negative-sampling scores as a layer, so word2vec trains through the data-parallel step like any
/// model. A sample is [C + 1 + k] word ids: C context ids (-1 pads a short window), the word to predict, then k
/// noise words. The hidden vector is the mean of the context rows of in_embed.weight (C = 1 is skip-gram, the
/// centre predicting one context word; C = 2·window is CBOW); the outputs are its dot products with the
/// out_embed.weight rows of the other 1 + k ids, the logits of "bce" with targets [1, 0, ..., 0]. Both tables
/// [vocabulary, dim] are row-sparse; in_embed starts uniform in ±0.5/dim and out_embed at zero, as the original tool.
/// The arithmetic runs on host memory (the CPU backend), sample by sample in a fixed order.
/// </summary>
internal sealed class Word2VecScores : Module
{
    private readonly int _contexts;
    private ParameterSlot _input = null!, _output = null!;
    private BatchBuffer _scores = null!, _inputGradient = null!;
    private float[] _hidden = [], _hiddenGradient = [];
    private int[] _contextCounts = [];
    private Tensor _ids = null!;

    public Word2VecScores(Shape inputShape, int vocabulary, int dimension, int contexts) : base(inputShape)
    {
        if (inputShape.Rank != 1 || inputShape[0] < contexts + 1)
            throw new ArgumentException($"word2vec reads [contexts + 1 + negatives] word ids per sample, got {inputShape} for {contexts} context ids.");
        Vocabulary = vocabulary;
        Dimension = dimension;
        _contexts = contexts;
    }

    public int Vocabulary { get; }
    public int Dimension { get; }
    public override Shape OutputShape => new(InputShape[0] - _contexts);

    public override void DeclareParameters(ParameterRegistry registry, string prefix)
    {
        var table = new Shape(Vocabulary, Dimension);
        _input = registry.Add(prefix + "in_embed.weight", table, ParameterRole.Weight, new ParameterInit(InitDistribution.Uniform, 0.5f / Dimension), rowSparse: true);
        _output = registry.Add(prefix + "out_embed.weight", table, ParameterRole.Weight, ParameterInit.Constant(0f), rowSparse: true);
    }

    public override void Bind(ICompute compute, int maxBatch)
    {
        _scores = new BatchBuffer(compute, maxBatch, OutputShape);
        _inputGradient = new BatchBuffer(compute, maxBatch, InputShape);
        _hidden = new float[maxBatch * Dimension];
        _hiddenGradient = new float[Dimension];
        _contextCounts = new int[maxBatch];
    }

    // forward: ids [n, C+1+k] -> scores [n, 1+k], scores[s, j] = mean(in[context ids]) · out[ids[C + j]]
    public override Tensor Forward(Tensor x, in PassContext context)
    {
        _ids = x;
        int n = x.Shape[0], width = InputShape[0], d = Dimension, outputs = OutputShape[0];
        var ids = Host(x);
        var input = Host(_input.Value);
        var output = Host(_output.Value);
        var y = _scores.Rows(n);
        var scores = Host(y);
        for (int s = 0; s < n; s++)
        {
            var hidden = _hidden.AsSpan(s * d, d);
            hidden.Clear();
            int count = 0;
            for (int c = 0; c < _contexts; c++)
            {
                int id = Id(ids[s * width + c], allowPadding: true);
                if (id < 0) continue;
                TensorPrimitives.Add(hidden, input.Slice(id * d, d), hidden);
                count++;
            }
            if (count == 0) throw new ArgumentException($"word2vec: sample {s} has no context word (every context id is -1).");
            if (count > 1) TensorPrimitives.Multiply(hidden, 1f / count, hidden);
            _contextCounts[s] = count;
            for (int j = 0; j < outputs; j++)
                scores[s * outputs + j] = TensorPrimitives.Dot(hidden, output.Slice(Id(ids[s * width + _contexts + j], allowPadding: false) * d, d));
        }
        return y;
    }

    // backward: dout[id_j] += g_j·hidden; dhidden = Σ_j g_j·out[id_j]; din[context] += dhidden / count
    public override Tensor? Backward(Tensor dy, bool needInputGradient)
    {
        int n = _ids.Shape[0], width = InputShape[0], d = Dimension, outputs = OutputShape[0];
        var ids = Host(_ids);
        var output = Host(_output.Value);
        var dInput = Host(_input.Gradient);
        var dOutput = Host(_output.Gradient);
        var g = Host(dy);
        var dHidden = _hiddenGradient.AsSpan();
        for (int s = 0; s < n; s++)
        {
            var hidden = _hidden.AsSpan(s * d, d);
            dHidden.Clear();
            for (int j = 0; j < outputs; j++)
            {
                int id = (int)ids[s * width + _contexts + j];
                float step = g[s * outputs + j];
                TensorPrimitives.MultiplyAdd(output.Slice(id * d, d), step, dHidden, dHidden);
                var row = dOutput.Slice(id * d, d);
                TensorPrimitives.MultiplyAdd(hidden, step, row, row);
            }
            if (_contextCounts[s] > 1) TensorPrimitives.Multiply(dHidden, 1f / _contextCounts[s], dHidden);
            for (int c = 0; c < _contexts; c++)
            {
                int id = (int)ids[s * width + c];
                if (id < 0) continue;
                var row = dInput.Slice(id * d, d);
                TensorPrimitives.Add(row, dHidden, row);
            }
        }
        // Word ids are not differentiable: their "gradient" is the zero buffer, never written.
        return needInputGradient ? _inputGradient.Rows(n) : null;
    }

    private int Id(float value, bool allowPadding)
    {
        int id = (int)value;
        if (id != value || id >= Vocabulary || id < (allowPadding ? -1 : 0))
            throw new ArgumentException($"word2vec: id {value} is not a word id in [0, {Vocabulary}){(allowPadding ? " or -1 (padding)" : "")}; check the vocabulary size against the data.");
        return id;
    }

    private static Span<float> Host(Tensor t) => t.IsHost
        ? t.Span
        : throw new NotSupportedException("The word2vec layer runs on the CPU backend; its tables live in host memory.");
}

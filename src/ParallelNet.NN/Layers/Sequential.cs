using ParallelNet.NN.Internal;
using ParallelNet.Tensors;

namespace ParallelNet.NN.Layers;

/// <summary>PyTorch nn.Sequential: children run in order and are named by their index ("0.", "1.", ...).</summary>
internal sealed class Sequential : Module
{
    private readonly Module[] _children;
    // Index of the first child that owns parameters: below it no gradient is needed unless the caller asks for dx.
    private int _firstChildWithParameters = int.MaxValue;

    public Sequential(Shape inputShape, IReadOnlyList<Module> children) : base(inputShape)
    {
        if (children.Count == 0) throw new ArgumentException("A sequential container needs at least one layer.");
        var shape = inputShape;
        for (int i = 0; i < children.Count; i++)
        {
            if (children[i].InputShape != shape) throw new ArgumentException($"Layer {i} expects input {children[i].InputShape} but the previous layer produces {shape}.");
            shape = children[i].OutputShape;
        }
        _children = children.ToArray();
    }

    public IReadOnlyList<Module> Children => _children;

    /// <summary>Called on the computing thread after each child's forward and backward (see <see cref="Model.BetweenLayers"/>).</summary>
    public Action? BetweenLayers { get; set; }

    public override Shape OutputShape => _children[^1].OutputShape;
    public override bool RowIndependent => _children.All(child => child.RowIndependent);

    public override void DeclareParameters(ParameterRegistry registry, string prefix)
    {
        for (int i = 0; i < _children.Length; i++)
        {
            int before = registry.Slots.Count;
            _children[i].DeclareParameters(registry, $"{prefix}{i}.");
            if (registry.Slots.Count > before && _firstChildWithParameters == int.MaxValue) _firstChildWithParameters = i;
        }
    }

    public override void Bind(ICompute compute, int maxBatch)
    {
        foreach (var child in _children) child.Bind(compute, maxBatch);
    }

    // forward: x [n, input...] -> y [n, output...] through every child
    public override Tensor Forward(Tensor x, in PassContext context)
    {
        var between = BetweenLayers;
        foreach (var child in _children)
        {
            x = child.Forward(x, context);
            between?.Invoke();
        }
        return x;
    }

    // backward: dy [n, output...] -> dx [n, input...] through every child in reverse
    public override Tensor? Backward(Tensor dy, bool needInputGradient) => BackwardChildren(dy, needInputGradient, null);

    public override Tensor? BackwardShards(Tensor dy, bool needInputGradient, ShardSegments shards) => BackwardChildren(dy, needInputGradient, shards);

    private Tensor? BackwardChildren(Tensor dy, bool needInputGradient, ShardSegments? shards)
    {
        Tensor? gradient = dy;
        var between = BetweenLayers;
        for (int i = _children.Length - 1; i >= 0 && gradient is not null && (needInputGradient || i >= _firstChildWithParameters); i--)
        {
            // e.g. the mlp's first linear layer sits after a flatten: its dx (the largest product) is never used.
            bool childNeedsInputGradient = needInputGradient || i > _firstChildWithParameters;
            gradient = shards is null
                ? _children[i].Backward(gradient, childNeedsInputGradient)
                : _children[i].BackwardShards(gradient, childNeedsInputGradient, shards);
            between?.Invoke();
        }
        return needInputGradient ? gradient : null;
    }
}

using ParallelNet.Tensors;

namespace ParallelNet.NN.Internal;

/// <summary>Views of the Weight slots (the ones L2 penalizes) of a flat buffer, cached for the last buffer seen so a step allocates nothing.</summary>
internal sealed class WeightViews(ParameterLayout layout)
{
    private readonly ParameterInfo[] _weights = layout.Parameters.Where(p => p.Role == ParameterRole.Weight).ToArray();
    private Tensor? _source;
    private Tensor[] _views = [];

    public Tensor[] Of(Tensor flat)
    {
        if (ReferenceEquals(flat, _source)) return _views;
        _views = _weights.Select(p => flat.View(p.Offset, p.Shape)).ToArray();
        _source = flat;
        return _views;
    }
}

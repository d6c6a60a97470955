using ParallelNet.NN.Initializers;
using ParallelNet.Tensors;

namespace ParallelNet.NN.Internal;

/// <summary>One declared parameter: its layout entry, how to initialize it, and (once bound) its value and gradient views.</summary>
internal sealed class ParameterSlot(ParameterInfo info, ParameterInit init)
{
    public ParameterInfo Info { get; } = info;
    public ParameterInit Init { get; } = init;
    public Tensor Value { get; private set; } = null!;
    public Tensor Gradient { get; private set; } = null!;

    public void Bind(Tensor parameters, Tensor gradients)
    {
        Value = parameters.View(Info.Offset, Info.Shape);
        Gradient = gradients.View(Info.Offset, Info.Shape);
    }

    /// <summary>Points the gradient at a view of another flat buffer (see Model.AccumulateInto).</summary>
    public void UseGradient(Tensor gradient) => Gradient = gradient;

    /// <summary>Points the value at a view of another flat buffer (see Model.ReadParametersFrom).</summary>
    public void UseValue(Tensor value) => Value = value;
}

/// <summary>Collects parameter declarations in order and assigns dense offsets (the <see cref="ParameterLayout"/>).</summary>
internal sealed class ParameterRegistry
{
    private readonly List<ParameterSlot> _slots = [];
    private int _offset;

    public IReadOnlyList<ParameterSlot> Slots => _slots;

    public ParameterSlot Add(string name, Shape shape, ParameterRole role, ParameterInit init, float statisticMomentum = 0f, bool rowSparse = false)
    {
        var slot = new ParameterSlot(new ParameterInfo(name, shape, _offset, role, statisticMomentum, rowSparse), init);
        _offset += shape.Size;
        _slots.Add(slot);
        return slot;
    }

    public ParameterLayout ToLayout() => new(_slots.Select(s => s.Info).ToArray());
}

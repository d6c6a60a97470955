using ParallelNet.NN.Internal;
using ParallelNet.Tensors;

namespace ParallelNet.NN.Layers;

/// <summary>
/// What a pass needs beyond its input: train or eval behaviour, the step coordinates that key random streams, and
/// the virtual shards when several go through the network as one batch (null: the batch is one shard).
/// </summary>
internal readonly record struct PassContext(bool Training, StepContext Step, ShardSegments? Shards = null);

/// <summary>
/// A layer: a forward/backward pair over a batch whose leading axis is the sample. Shapes are per
/// sample and fixed when the model is built. Parameters are views of the model's flat buffers
/// (declared through <see cref="ParameterRegistry"/>); activation buffers are allocated once for the
/// largest batch in <see cref="Bind"/> and only viewed afterwards.
/// </summary>
internal abstract class Module(Shape inputShape)
{
    /// <summary>Per-sample input shape.</summary>
    public Shape InputShape { get; } = inputShape;

    /// <summary>Per-sample output shape.</summary>
    public abstract Shape OutputShape { get; }

    /// <summary>Declares the parameters in PyTorch state_dict order; <paramref name="prefix"/> is e.g. "3." or "3.conv1.".</summary>
    public virtual void DeclareParameters(ParameterRegistry registry, string prefix)
    {
    }

    /// <summary>Allocates the activation and gradient buffers for up to <paramref name="maxBatch"/> samples.</summary>
    public abstract void Bind(ICompute compute, int maxBatch);

    /// <summary>Returns the output for x; the result stays valid until the next forward of this layer.</summary>
    public abstract Tensor Forward(Tensor x, in PassContext context);

    /// <summary>
    /// Accumulates parameter gradients from dy (the gradient of the output of the last forward) and
    /// returns dx, or null when <paramref name="needInputGradient"/> is false and the layer can skip it.
    /// </summary>
    public abstract Tensor? Backward(Tensor dy, bool needInputGradient);

    /// <summary>
    /// True when every output row depends only on its own input row and the sample's position in the batch (no
    /// statistics over samples), so several virtual shards may run through <see cref="Forward"/> as one batch and
    /// each shard's rows come out as in a pass of the shard alone.
    /// </summary>
    public virtual bool RowIndependent => false;

    /// <summary>
    /// <see cref="Backward"/> of a batch of virtual shards (only for <see cref="RowIndependent"/> layers): each
    /// shard's parameter gradients go to its own buffer, or, when <see cref="ShardSegments.SumAlongTree"/>, their
    /// fixed-tree sum overwrites the parameters' gradients. The default suits layers without parameters.
    /// </summary>
    public virtual Tensor? BackwardShards(Tensor dy, bool needInputGradient, ShardSegments shards) => Backward(dy, needInputGradient);
}

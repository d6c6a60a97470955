using ParallelNet.NN.Internal;
using ParallelNet.Tensors;

namespace ParallelNet.NN.Layers;

/// <summary>PyTorch nn.Flatten: [n, d1, d2, ...] -> [n, d1*d2*...]; a view, no copy.</summary>
internal sealed class Flatten(Shape inputShape) : Module(inputShape)
{
    private readonly ReshapeCache _forward = new(), _backward = new();

    public override Shape OutputShape => new(InputShape.Size);
    public override bool RowIndependent => true;

    public override void Bind(ICompute compute, int maxBatch)
    {
    }

    // forward: x [n, ...] -> y [n, prod(...)]
    public override Tensor Forward(Tensor x, in PassContext context) => _forward.Reshape(x, OutputShape);

    // backward: dy [n, prod(...)] -> dx [n, ...]
    public override Tensor? Backward(Tensor dy, bool needInputGradient) => needInputGradient ? _backward.Reshape(dy, InputShape) : null;
}

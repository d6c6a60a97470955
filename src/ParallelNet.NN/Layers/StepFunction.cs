using ParallelNet.NN.Internal;
using ParallelNet.Tensors;

namespace ParallelNet.NN.Layers;

/// <summary>
/// The perceptron's Heaviside step: y = 1 for x &gt;= 0, else 0. Its true derivative is zero almost
/// everywhere, which would stop all learning, so the backward pass is the straight-through estimator
/// dx = dy. Followed by the <c>perceptron</c> loss (½ (ŷ - y)², gradient ŷ - y), plain SGD with
/// learning rate lr then updates w -= lr (ŷ - y) x, which is exactly the perceptron rule
/// w += lr (y - ŷ) x (summed over the batch, divided by the batch size).
/// PyTorch equivalent of the forward pass: torch.heaviside(x, torch.tensor(1.)).
/// </summary>
internal sealed class StepFunction(Shape inputShape) : Module(inputShape)
{
    private ICompute _compute = null!;
    private BatchBuffer _output = null!;

    public override Shape OutputShape => InputShape;

    public override void Bind(ICompute compute, int maxBatch)
    {
        _compute = compute;
        _output = new BatchBuffer(compute, maxBatch, InputShape);
    }

    // forward: x [n, ...] -> y [n, ...] = (x >= 0)
    public override Tensor Forward(Tensor x, in PassContext context)
    {
        var y = _output.Rows(x.Shape[0]);
        _compute.ActivationForward(ActivationKind.Step, 0f, x, y);
        return y;
    }

    // backward (straight-through): dy [n, ...] -> dx = dy
    public override Tensor? Backward(Tensor dy, bool needInputGradient) => needInputGradient ? dy : null;
}

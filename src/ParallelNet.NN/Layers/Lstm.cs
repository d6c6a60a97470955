using ParallelNet.NN.Internal;
using ParallelNet.Tensors;

namespace ParallelNet.NN.Layers;

/// <summary>
/// torch.nn.LSTM (one layer, batch_first): gates i, f, g, o = σ, σ, tanh, σ of x W_ihᵀ + b_ih + h W_hhᵀ + b_hh;
/// c_t = f·c_{t-1} + i·g, h_t = o·tanh(c_t); h and c start at zero.
/// </summary>
internal sealed class Lstm(Shape inputShape, int hidden, bool returnSequences, int truncate)
    : Recurrent(inputShape, hidden, 4, returnSequences, truncate)
{
    private SequenceViews _cells = null!, _tanhCells = null!;
    private BatchBuffer _cellGradient = null!;

    protected override void BindCell(ICompute compute, int maxBatch)
    {
        _cells = new SequenceViews(compute, Steps + 1, maxBatch, Hidden);
        _tanhCells = new SequenceViews(compute, Steps, maxBatch, Hidden);
        _cellGradient = new BatchBuffer(compute, maxBatch, new Shape(Hidden));
    }

    protected override void ResizeCell(int rows)
    {
        _cells.Resize(rows);
        _tanhCells.Resize(rows);
    }

    protected override void ResetState() => Compute.Fill(_cells[0], 0f);

    protected override void StepForward(int t) => Compute.LstmCellForward(Gates[t], _cells[t], _cells[t + 1], _tanhCells[t], HiddenStates[t + 1]);

    protected override void ResetStateGradient() => Compute.Fill(_cellGradient.Rows(Rows), 0f);

    protected override void StepBackward(int t, Tensor hiddenGradient, Tensor gateGradients)
        => Compute.LstmCellBackward(Gates[t], _cells[t], _tanhCells[t], hiddenGradient, _cellGradient.Rows(Rows), gateGradients);
}

using ParallelNet.Tensors.Cpu.Internal;
using ParallelNet.Tensors.Cpu.Kernels;

namespace ParallelNet.Tensors.Cpu;

public sealed partial class CpuCompute
{
    // Below this many gate values per step one thread finishes before a second one would have started.
    private const int ParallelLstmGates = 1 << 15;

    public void EmbeddingForward(Tensor indices, Tensor table, Tensor y)
        => Embedding.Forward(indices.Span, table.Span, y.Span, EmbeddingDimension("EmbeddingForward", table));

    public void EmbeddingBackward(Tensor indices, Tensor dy, Tensor dtable)
        => Embedding.Backward(indices.Span, dy.Span, dtable.Span, EmbeddingDimension("EmbeddingBackward", dtable));

    public void SwapLeadingAxes(Tensor x, Tensor y, int outer, int middle) => Recurrent.SwapLeadingAxes(x.Span, y.Span, outer, middle);

    public void LstmCellForward(Tensor gates, Tensor previousCell, Tensor cell, Tensor tanhCell, Tensor hidden)
    {
        var (rows, h) = Recurrent.LstmShape("LstmCellForward", gates.Shape, previousCell.Length, cell.Length, tanhCell.Length, hidden.Length);
        var gs = Host(gates); var cps = Host(previousCell); var cs = Host(cell); var ts = Host(tanhCell); var hs = Host(hidden);
        RowsInParallel(rows, gates.Length, (first, count) => Recurrent.LstmCellForward(gs, cps, cs, ts, hs, h, first, count));
    }

    public void LstmCellBackward(Tensor gates, Tensor previousCell, Tensor tanhCell, Tensor hiddenGradient, Tensor cellGradient, Tensor gateGradients)
    {
        var (rows, h) = Recurrent.LstmShape("LstmCellBackward", gates.Shape, previousCell.Length, tanhCell.Length, hiddenGradient.Length, cellGradient.Length);
        KernelChecks.SameLength("LstmCellBackward", gates.Length, gateGradients.Length, "gates", "gate gradients");
        var gs = Host(gates); var cps = Host(previousCell); var ts = Host(tanhCell); var dhs = Host(hiddenGradient); var dcs = Host(cellGradient); var dgs = Host(gateGradients);
        RowsInParallel(rows, gates.Length, (first, count) => Recurrent.LstmCellBackward(gs, cps, ts, dhs, dcs, dgs, h, first, count));
    }

    /// <summary>Rows are independent, so splitting them over threads cannot change any value.</summary>
    private void RowsInParallel(int rows, int work, RangeBody body)
    {
        if (work < ParallelLstmGates) body(0, rows);
        else ForEachRange(rows, body);
    }

    private static int EmbeddingDimension(string op, Tensor table)
    {
        if (table.Shape.Rank != 2) throw new ArgumentException($"{op}: the table must be [vocabulary, dimension], got {table.Shape}.");
        return table.Shape[1];
    }
}

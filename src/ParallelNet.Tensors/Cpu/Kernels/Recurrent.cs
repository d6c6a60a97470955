using System.Numerics;
using System.Numerics.Tensors;
using ParallelNet.Tensors.Cpu.Internal;

namespace ParallelNet.Tensors.Cpu.Kernels;

/// <summary>
/// The pointwise part of recurrent layers: the LSTM cell (gate order i, f, g, o as in torch.nn.LSTM) and the
/// batch-major / time-major transpose. The matrix products around them are ordinary GEMMs.
/// </summary>
public static class Recurrent
{
    /// <summary>x [outer, middle, inner] → y [middle, outer, inner].</summary>
    public static void SwapLeadingAxes(ReadOnlySpan<float> x, Span<float> y, int outer, int middle)
    {
        int inner = SwapInner("SwapLeadingAxes", x.Length, y.Length, outer, middle);
        for (int a = 0; a < outer; a++)
        {
            for (int b = 0; b < middle; b++)
                x.Slice((a * middle + b) * inner, inner).CopyTo(y.Slice((b * outer + a) * inner, inner));
        }
    }

    internal static int SwapInner(string op, int xLength, int yLength, int outer, int middle)
    {
        KernelChecks.SameLength(op, xLength, yLength, "x", "y");
        if (outer <= 0 || middle <= 0) throw new ArgumentException($"{op}: outer and middle must be positive, got {outer} and {middle}.");
        KernelChecks.DivisibleBy(op, "x", xLength, outer * middle, "outer * middle");
        return xLength / (outer * middle);
    }

    /// <summary>Rows [first, first + count) of one LSTM step; see ICompute.LstmCellForward.</summary>
    public static void LstmCellForward(Span<float> gates, ReadOnlySpan<float> previousCell, Span<float> cell, Span<float> tanhCell, Span<float> hidden,
        int hiddenSize, int first, int count)
    {
        int h = hiddenSize;
        for (int r = first; r < first + count; r++)
        {
            var row = gates.Slice(r * 4 * h, 4 * h);
            var inputAndForget = row[..(2 * h)];
            var candidate = row.Slice(2 * h, h);
            var output = row.Slice(3 * h, h);
            TensorPrimitives.Sigmoid(inputAndForget, inputAndForget);
            TensorPrimitives.Tanh(candidate, candidate);
            TensorPrimitives.Sigmoid(output, output);
            var c = cell.Slice(r * h, h);
            var tc = tanhCell.Slice(r * h, h);
            TensorPrimitives.Multiply(row.Slice(h, h), previousCell.Slice(r * h, h), c);
            TensorPrimitives.MultiplyAdd(row[..h], candidate, c, c);
            TensorPrimitives.Tanh(c, tc);
            TensorPrimitives.Multiply(output, tc, hidden.Slice(r * h, h));
        }
    }

    /// <summary>Rows [first, first + count) of the LSTM step's backward pass; see ICompute.LstmCellBackward.</summary>
    public static void LstmCellBackward(ReadOnlySpan<float> gates, ReadOnlySpan<float> previousCell, ReadOnlySpan<float> tanhCell,
        ReadOnlySpan<float> hiddenGradient, Span<float> cellGradient, Span<float> gateGradients, int hiddenSize, int first, int count)
    {
        int h = hiddenSize, width = Vector<float>.Count;
        var one = Vector<float>.One;
        for (int r = first; r < first + count; r++)
        {
            var g = gates.Slice(r * 4 * h, 4 * h);
            var dg = gateGradients.Slice(r * 4 * h, 4 * h);
            var cp = previousCell.Slice(r * h, h);
            var tc = tanhCell.Slice(r * h, h);
            var dh = hiddenGradient.Slice(r * h, h);
            var dc = cellGradient.Slice(r * h, h);
            int j = 0;
            // Vector lanes and the scalar tail use the same operations in the same order, so a value never depends on its lane.
            for (; j <= h - width; j += width)
            {
                var i = new Vector<float>(g[j..]);
                var f = new Vector<float>(g[(h + j)..]);
                var c = new Vector<float>(g[(2 * h + j)..]);
                var o = new Vector<float>(g[(3 * h + j)..]);
                var t = new Vector<float>(tc[j..]);
                var dhj = new Vector<float>(dh[j..]);
                var total = new Vector<float>(dc[j..]) + dhj * o * (one - t * t);
                (total * c * i * (one - i)).CopyTo(dg[j..]);
                (total * new Vector<float>(cp[j..]) * f * (one - f)).CopyTo(dg[(h + j)..]);
                (total * i * (one - c * c)).CopyTo(dg[(2 * h + j)..]);
                (dhj * t * o * (one - o)).CopyTo(dg[(3 * h + j)..]);
                (total * f).CopyTo(dc[j..]);
            }
            for (; j < h; j++)
            {
                float i = g[j], f = g[h + j], c = g[2 * h + j], o = g[3 * h + j], t = tc[j], dhj = dh[j];
                float total = dc[j] + dhj * o * (1f - t * t);
                dg[j] = total * c * i * (1f - i);
                dg[h + j] = total * cp[j] * f * (1f - f);
                dg[2 * h + j] = total * i * (1f - c * c);
                dg[3 * h + j] = dhj * t * o * (1f - o);
                dc[j] = total * f;
            }
        }
    }

    /// <summary>Checks the shapes of an LSTM step and returns (rows, hidden size).</summary>
    internal static (int Rows, int Hidden) LstmShape(string op, Shape gates, int previousCell, int cell, int tanhCell, int hidden)
    {
        if (gates.Rank != 2 || gates[1] % 4 != 0 || gates[1] == 0)
            throw new ArgumentException($"{op}: gates must be [n, 4·hidden] (i, f, g, o blocks), got {gates}.");
        int rows = gates[0], h = gates[1] / 4;
        KernelChecks.Length(op, "previous cell", previousCell, (long)rows * h);
        KernelChecks.Length(op, "cell", cell, (long)rows * h);
        KernelChecks.Length(op, "tanh(cell)", tanhCell, (long)rows * h);
        KernelChecks.Length(op, "hidden", hidden, (long)rows * h);
        return (rows, h);
    }
}

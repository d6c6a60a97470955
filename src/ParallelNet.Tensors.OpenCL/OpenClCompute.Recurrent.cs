using ParallelNet.Tensors.OpenCL.Internal;

namespace ParallelNet.Tensors.OpenCL;

/// <summary>
/// Recurrent and embedding ops (Kernels/80_recurrent.cl). The embedding gather, the axis swap and the LSTM
/// backward pass agree with the CPU backend bit for bit; the LSTM forward within the transcendental tolerance
/// (sigmoid and tanh are OpenCL built-ins). Token ids are checked on the device: only the position of the
/// first bad one (and its value, to name it) comes back to the host.
/// </summary>
public sealed partial class OpenClCompute
{
    public void EmbeddingForward(Tensor indices, Tensor table, Tensor y)
    {
        const string op = "EmbeddingForward";
        int dimension = EmbeddingDimension(op, table);
        Checks.Length(op, "y", y.Length, (long)indices.Length * dimension);
        lock (_sync)
        {
            CheckTokenIds(op, indices, table.Shape[0]);
            _runtime.Launch("embedding_forward", y.Length, Arg(indices, op), Arg(table, op), Arg(y, op), dimension);
        }
    }

    public void EmbeddingBackward(Tensor indices, Tensor dy, Tensor dtable)
    {
        const string op = "EmbeddingBackward";
        int dimension = EmbeddingDimension(op, dtable);
        Checks.Length(op, "dy", dy.Length, (long)indices.Length * dimension);
        lock (_sync)
        {
            CheckTokenIds(op, indices, dtable.Shape[0]);
            if (indices.Length > 0) _runtime.Launch("embedding_backward", dimension, Arg(indices, op), Arg(dy, op), Arg(dtable, op), indices.Length);
        }
    }

    public void SwapLeadingAxes(Tensor x, Tensor y, int outer, int middle)
    {
        const string op = "SwapLeadingAxes";
        Checks.SameLength(op, x.Length, y.Length, "x", "y");
        if (outer <= 0 || middle <= 0) throw new ArgumentException($"{op}: outer and middle must be positive, got {outer} and {middle}.");
        Checks.DivisibleBy(op, "x", x.Length, outer * middle, "outer * middle");
        lock (_sync) _runtime.Launch("swap_leading_axes", x.Length, Arg(x, op), Arg(y, op), outer, middle, x.Length / (outer * middle));
    }

    public void LstmCellForward(Tensor gates, Tensor previousCell, Tensor cell, Tensor tanhCell, Tensor hidden)
    {
        const string op = "LstmCellForward";
        var (rows, h) = LstmShape(op, gates.Shape, previousCell.Length, cell.Length, tanhCell.Length, hidden.Length);
        lock (_sync)
            _runtime.Launch("lstm_cell_forward", (long)rows * h, Arg(gates, op), Arg(previousCell, op), Arg(cell, op), Arg(tanhCell, op), Arg(hidden, op), h);
    }

    public void LstmCellBackward(Tensor gates, Tensor previousCell, Tensor tanhCell, Tensor hiddenGradient, Tensor cellGradient, Tensor gateGradients)
    {
        const string op = "LstmCellBackward";
        var (rows, h) = LstmShape(op, gates.Shape, previousCell.Length, tanhCell.Length, hiddenGradient.Length, cellGradient.Length);
        Checks.SameLength(op, gates.Length, gateGradients.Length, "gates", "gate gradients");
        lock (_sync)
            _runtime.Launch("lstm_cell_backward", (long)rows * h, Arg(gates, op), Arg(previousCell, op), Arg(tanhCell, op), Arg(hiddenGradient, op),
                Arg(cellGradient, op), Arg(gateGradients, op), h);
    }

    /// <summary>Throws, like the CPU backend, at the first position that is not an integral id in [0, vocabulary).</summary>
    private void CheckTokenIds(string op, Tensor indices, int vocabulary)
    {
        var arg = Arg(indices, op);
        if (indices.Length == 0) return;
        var flag = ScratchBuffer(Scratch.Flag, sizeof(int));
        _runtime.Fill(flag, 0, 1, int.MaxValue);
        _runtime.Launch("embedding_find_bad_index", indices.Length, arg, vocabulary, flag);
        Span<int> position = stackalloc int[1];
        _runtime.Read(flag, 0, position);
        if (position[0] == int.MaxValue) return;
        Span<float> value = stackalloc float[1];
        _runtime.Read(Buffer(indices, op), indices.Offset + position[0], value);
        throw new ArgumentException($"{op}: index {value[0]} at position {position[0]} is not a token id in [0, {vocabulary}); check the vocabulary size of the embedding layer against the data.");
    }

    private static int EmbeddingDimension(string op, Tensor table)
    {
        if (table.Shape.Rank != 2) throw new ArgumentException($"{op}: the table must be [vocabulary, dimension], got {table.Shape}.");
        Checks.Positive(op, "dimension", table.Shape[1]);
        return table.Shape[1];
    }

    private static (int Rows, int Hidden) LstmShape(string op, Shape gates, int previousCell, int cell, int tanhCell, int hidden)
    {
        if (gates.Rank != 2 || gates[1] % 4 != 0 || gates[1] == 0)
            throw new ArgumentException($"{op}: gates must be [n, 4·hidden] (i, f, g, o blocks), got {gates}.");
        int rows = gates[0], h = gates[1] / 4;
        Checks.Length(op, "previous cell", previousCell, (long)rows * h);
        Checks.Length(op, "cell", cell, (long)rows * h);
        Checks.Length(op, "tanh(cell)", tanhCell, (long)rows * h);
        Checks.Length(op, "hidden", hidden, (long)rows * h);
        return (rows, h);
    }
}

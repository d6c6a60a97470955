using System.Numerics.Tensors;
using ParallelNet.Tensors.Cpu.Internal;

namespace ParallelNet.Tensors.Cpu.Kernels;

/// <summary>Embedding lookup (row gather) and its gradient (row scatter-add in ascending order).</summary>
public static class Embedding
{
    public static void Forward(ReadOnlySpan<float> indices, ReadOnlySpan<float> table, Span<float> y, int dimension)
    {
        int vocabulary = Validate("EmbeddingForward", indices.Length, table.Length, y.Length, dimension, "y");
        for (int r = 0; r < indices.Length; r++)
        {
            int id = TokenId("EmbeddingForward", indices[r], r, vocabulary);
            table.Slice(id * dimension, dimension).CopyTo(y.Slice(r * dimension, dimension));
        }
    }

    /// <summary>dtable[indices[r]] += dy[r]; rows in ascending r, so repeated ids sum in a fixed order.</summary>
    public static void Backward(ReadOnlySpan<float> indices, ReadOnlySpan<float> dy, Span<float> dtable, int dimension)
    {
        int vocabulary = Validate("EmbeddingBackward", indices.Length, dtable.Length, dy.Length, dimension, "dy");
        for (int r = 0; r < indices.Length; r++)
        {
            int id = TokenId("EmbeddingBackward", indices[r], r, vocabulary);
            var row = dtable.Slice(id * dimension, dimension);
            TensorPrimitives.Add(row, dy.Slice(r * dimension, dimension), row);
        }
    }

    /// <summary>Returns the vocabulary size after checking that the table is [vocabulary, dimension] and rows are [count, dimension].</summary>
    internal static int Validate(string op, int count, int tableLength, int rowsLength, int dimension, string rowsName)
    {
        KernelChecks.Positive(op, "dimension", dimension);
        KernelChecks.DivisibleBy(op, "table", tableLength, dimension, "dimension");
        KernelChecks.Length(op, rowsName, rowsLength, (long)count * dimension);
        return tableLength / dimension;
    }

    /// <summary>Token ids travel as floats; anything but an exact id in range is a data bug worth stopping for.</summary>
    internal static int TokenId(string op, float value, int position, int vocabulary)
    {
        int id = (int)value;
        if (id != value || id < 0 || id >= vocabulary)
            throw new ArgumentException($"{op}: index {value} at position {position} is not a token id in [0, {vocabulary}); check the vocabulary size of the embedding layer against the data.");
        return id;
    }
}

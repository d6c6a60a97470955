namespace ParallelNet.Tensors.Cpu.Kernels.Naive;

/// <summary>Reference twin of <see cref="Embedding"/>: element by element.</summary>
public static class NaiveEmbedding
{
    public static void Forward(ReadOnlySpan<float> indices, ReadOnlySpan<float> table, Span<float> y, int dimension)
    {
        for (int r = 0; r < indices.Length; r++)
        {
            for (int j = 0; j < dimension; j++) y[r * dimension + j] = table[(int)indices[r] * dimension + j];
        }
    }

    public static void Backward(ReadOnlySpan<float> indices, ReadOnlySpan<float> dy, Span<float> dtable, int dimension)
    {
        for (int r = 0; r < indices.Length; r++)
        {
            for (int j = 0; j < dimension; j++) dtable[(int)indices[r] * dimension + j] += dy[r * dimension + j];
        }
    }
}

namespace ParallelNet.Tensors.Cpu.Gemm;

/// <summary>
/// Single-precision GEMM for the CPU backend. PLACEHOLDER until the blocked Vector512 kernel lands:
/// forwards to the naive twin.
/// </summary>
public static class CpuGemm
{
    // c[m,n] = alpha * op(a)[m,k] @ op(b)[k,n] + beta * c; parallel over output tiles only.
    public static void Multiply(bool transposeA, bool transposeB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, ReadOnlySpan<float> b, float beta, Span<float> c, int threads)
        => NaiveGemm.Multiply(transposeA, transposeB, m, n, k, alpha, a, b, beta, c);
}

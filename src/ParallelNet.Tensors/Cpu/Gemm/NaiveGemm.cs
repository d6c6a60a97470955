namespace ParallelNet.Tensors.Cpu.Gemm;

/// <summary>
/// The reference twin of <see cref="CpuGemm"/>: plain triple loop, accumulating in float in
/// ascending k, row-major contiguous operands. Slow on purpose; tests compare the fast kernel with it.
/// </summary>
public static class NaiveGemm
{
    // c[m,n] = alpha * op(a)[m,k] @ op(b)[k,n] + beta * c
    public static void Multiply(bool transposeA, bool transposeB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, ReadOnlySpan<float> b, float beta, Span<float> c)
    {
        GemmChecks.Validate(m, n, k, a.Length, b.Length, c.Length);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                float sum = 0f;
                for (int p = 0; p < k; p++)
                {
                    float av = transposeA ? a[p * m + i] : a[i * k + p];
                    float bv = transposeB ? b[j * k + p] : b[p * n + j];
                    sum += av * bv;
                }
                c[i * n + j] = beta == 0f ? alpha * sum : alpha * sum + beta * c[i * n + j];
            }
        }
    }
}

internal static class GemmChecks
{
    public static void Validate(int m, int n, int k, int aLength, int bLength, int cLength)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentException($"GEMM dimensions must be non-negative, got m={m} n={n} k={k}.");
        if (aLength < (long)m * k) throw new ArgumentException($"GEMM operand A has {aLength} elements, needs m*k = {(long)m * k}.");
        if (bLength < (long)k * n) throw new ArgumentException($"GEMM operand B has {bLength} elements, needs k*n = {(long)k * n}.");
        if (cLength < (long)m * n) throw new ArgumentException($"GEMM output C has {cLength} elements, needs m*n = {(long)m * n}.");
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ParallelNet.Tensors.Cpu.Gemm.Internal;

/// <summary>
/// The path for c = a @ b^T with a narrow output (at most 16 columns, e.g. a classifier's logits):
/// both operands are contiguous along k, so each output is a dot product of two rows and nothing
/// needs packing, which is what dominates such products on the panel path. Each element is summed the
/// same way wherever it sits: 16-wide FMA partial sums in ascending k, one fixed horizontal sum, then
/// the k % 16 tail in ascending k. The order differs from the panel kernels, but depends on k alone.
/// </summary>
internal static unsafe class DotProductRows
{
    public static bool Supports(bool transposeA, bool transposeB, int n) =>
        Vector512.IsHardwareAccelerated && !transposeA && transposeB && n <= MaxColumns;

    public const int MaxColumns = 16;

    public static void Run(in GemmProblem problem, int row0, int rows)
    {
        int k = problem.K, n = problem.N;
        int rowEnd = row0 + rows;
        for (int i = row0; i < rowEnd; i += DotProductBlock4x5.Rows)
        {
            int height = Math.Min(DotProductBlock4x5.Rows, rowEnd - i);
            for (int j = 0; j < n; j += DotProductBlock4x5.Columns)
            {
                int width = Math.Min(DotProductBlock4x5.Columns, n - j);
                float* a = problem.A + (nint)i * k;
                float* b = problem.B + (nint)j * k;
                float* c = problem.C + (nint)i * n + j;
                if (height == DotProductBlock4x5.Rows && width == DotProductBlock4x5.Columns)
                {
                    DotProductBlock4x5.Run(k, a, k, b, k, c, n, problem.Alpha, problem.Beta);
                    continue;
                }
                if (height == DotProductBlock4x5.Rows && n >= DotProductBlock4x5.Columns)
                {
                    LastColumns(problem, a, i, width);
                    continue;
                }
                for (int r = 0; r < height; r++)
                    for (int q = 0; q < width; q++)
                        Single(k, a + (nint)r * k, b + (nint)q * k, c + (nint)r * n + q, problem.Alpha, problem.Beta);
            }
        }
    }

    /// <summary>
    /// The last <paramref name="width"/> (&lt; 5) columns of four rows: the full block over the last five columns
    /// into a scratch tile, of which only the new columns are kept. Every element sees the block's arithmetic,
    /// which equals <see cref="Single"/>'s, at five accumulator chains instead of one.
    /// </summary>
    private static void LastColumns(in GemmProblem problem, float* a, int row, int width)
    {
        const int rows = DotProductBlock4x5.Rows, columns = DotProductBlock4x5.Columns;
        int k = problem.K, n = problem.N, first = n - columns;
        float* tile = stackalloc float[rows * columns];
        float* c = problem.C + (nint)row * n + first;
        for (int r = 0; r < rows; r++)
            for (int q = 0; q < columns; q++) tile[r * columns + q] = c[(nint)r * n + q];
        DotProductBlock4x5.Run(k, a, k, problem.B + (nint)first * k, k, tile, columns, problem.Alpha, problem.Beta);
        for (int r = 0; r < rows; r++)
            for (int q = columns - width; q < columns; q++) c[(nint)r * n + q] = tile[r * columns + q];
    }

    private static void Single(int k, float* a, float* b, float* c, float alpha, float beta)
    {
        Vector512<float> sum = default;
        int vectorEnd = k & ~15;
        for (int p = 0; p < vectorEnd; p += 16)
            sum = Vector512.FusedMultiplyAdd(Vector512.Load(a + p), Vector512.Load(b + p), sum);
        Finish(Vector512.Sum(sum), vectorEnd, k, a, b, c, alpha, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Finish(float dot, int from, int k, float* a, float* b, float* c, float alpha, float beta)
    {
        for (int p = from; p < k; p++) dot = MathF.FusedMultiplyAdd(a[p], b[p], dot);
        *c = beta == 0f ? dot * alpha : dot * alpha + *c * beta;
    }
}

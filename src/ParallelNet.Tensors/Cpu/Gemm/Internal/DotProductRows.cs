using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ParallelNet.Tensors.Cpu.Gemm.Internal;

/// <summary>
/// The path for c = a @ b^T with a narrow output (at most 16 columns, e.g. a classifier's logits) or few rows
/// (a small shard's forward pass): both operands are contiguous along k, so each output is a dot product of two
/// rows and nothing needs packing, which is what dominates such products on the panel path (there, b^T would be
/// transposed into panels for every call, for only a few row panels to use). Blocks of rows x columns dot products
/// share their loads (AVX-512 4 x 5, AVX2 2 x 5); a block of b rows stays in L1 while all rows of the tile pass it.
/// Each element is summed the same way wherever it sits: vector-wide FMA partial sums in ascending k, one fixed
/// horizontal sum, then the k % width tail in ascending k. The order differs from the panel kernels, but depends
/// on k alone.
/// </summary>
internal static unsafe class DotProductRows
{
    /// <summary>Outputs at most this wide take the path at any row count.</summary>
    public const int MaxColumns = 16;

    /// <summary>Products with at most this many rows take the path at any width (measured: a 32-row shard's forward).</summary>
    public const int MaxRowsForWideOutputs = 48;

    private const int MaxBlockFloats = DotProductBlock4x5.Rows * DotProductBlock4x5.Columns;

    // The widest vectors the hardware runs natively; a product never mixes the two widths.
    private static readonly bool Wide = Vector512.IsHardwareAccelerated;

    public static bool Supports(bool transposeA, bool transposeB) =>
        (Vector512.IsHardwareAccelerated || Vector256.IsHardwareAccelerated) && !transposeA && transposeB;

    /// <summary>Rows of one block; row tiles are cut in multiples of it.</summary>
    public static int BlockRows => Wide ? DotProductBlock4x5.Rows : DotProductBlock2x5.Rows;

    private static int BlockColumns => Wide ? DotProductBlock4x5.Columns : DotProductBlock2x5.Columns;

    /// <summary>The output tile [row0, row0 + rows) x [col0, col0 + cols).</summary>
    public static void Run(in GemmProblem problem, int row0, int rows, int col0, int cols)
    {
        int k = problem.K, n = problem.N, blockRows = BlockRows, blockColumns = BlockColumns;
        int rowEnd = row0 + rows, colEnd = col0 + cols;
        if (rows < blockRows || cols < blockColumns)
        {
            for (int i = row0; i < rowEnd; i++)
                for (int j = col0; j < colEnd; j++)
                    Single(k, problem.A + (nint)i * k, problem.B + (nint)j * k, problem.C + (nint)i * n + j, problem.Alpha, problem.Beta);
            return;
        }
        for (int j = col0; j < colEnd; j += blockColumns)
        {
            int left = Math.Min(j, colEnd - blockColumns);
            for (int i = row0; i < rowEnd; i += blockRows)
            {
                int top = Math.Min(i, rowEnd - blockRows);
                if (top == i && left == j)
                    RunBlock(k, problem.A + (nint)i * k, problem.B + (nint)j * k, problem.C + (nint)i * n + j, n, problem.Alpha, problem.Beta);
                else
                    Overlapping(problem, top, left, i - top, j - left);
            }
        }
    }

    /// <summary>
    /// A block that would run past the tile's last row or column, moved back to end there: it recomputes
    /// elements already written (with the same arithmetic) into a scratch tile, of which only the new ones are kept.
    /// </summary>
    private static void Overlapping(in GemmProblem problem, int top, int left, int firstNewRow, int firstNewColumn)
    {
        int k = problem.K, n = problem.N, blockRows = BlockRows, blockColumns = BlockColumns;
        float* tile = stackalloc float[MaxBlockFloats];
        float* c = problem.C + (nint)top * n + left;
        if (problem.Beta != 0f)
            for (int r = 0; r < blockRows; r++)
                for (int q = 0; q < blockColumns; q++) tile[r * blockColumns + q] = c[(nint)r * n + q];
        RunBlock(k, problem.A + (nint)top * k, problem.B + (nint)left * k, tile, blockColumns, problem.Alpha, problem.Beta);
        for (int r = firstNewRow; r < blockRows; r++)
            for (int q = firstNewColumn; q < blockColumns; q++) c[(nint)r * n + q] = tile[r * blockColumns + q];
    }

    private static void RunBlock(int k, float* a, float* b, float* c, nint ldc, float alpha, float beta)
    {
        if (Wide) DotProductBlock4x5.Run(k, a, k, b, k, c, ldc, alpha, beta);
        else DotProductBlock2x5.Run(k, a, k, b, k, c, ldc, alpha, beta);
    }

    /// <summary>One element with a block's arithmetic, for outputs smaller than a block.</summary>
    private static void Single(int k, float* a, float* b, float* c, float alpha, float beta)
    {
        if (Wide)
        {
            Vector512<float> sum = default;
            int vectorEnd = k & ~15;
            for (int p = 0; p < vectorEnd; p += 16)
                sum = Vector512.FusedMultiplyAdd(Vector512.Load(a + p), Vector512.Load(b + p), sum);
            Finish(Vector512.Sum(sum), vectorEnd, k, a, b, c, alpha, beta);
        }
        else
        {
            Vector256<float> sum = default;
            int vectorEnd = k & ~7;
            for (int p = 0; p < vectorEnd; p += 8)
                sum = Vector256.FusedMultiplyAdd(Vector256.Load(a + p), Vector256.Load(b + p), sum);
            Finish(Vector256.Sum(sum), vectorEnd, k, a, b, c, alpha, beta);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Finish(float dot, int from, int k, float* a, float* b, float* c, float alpha, float beta)
    {
        for (int p = from; p < k; p++) dot = MathF.FusedMultiplyAdd(a[p], b[p], dot);
        *c = beta == 0f ? dot * alpha : dot * alpha + *c * beta;
    }
}

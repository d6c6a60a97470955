using ParallelNet.Tensors.Cpu.Gemm.Internal;

namespace ParallelNet.Tensors.Cpu.Gemm;

/// <summary>
/// Single-precision GEMM for the CPU backend: packed panels, cache blocking and an FMA register-tile
/// kernel (AVX-512 8x32, 5x32 or 8x16 by shape, else AVX2 6x16, else scalar 4x4), parallel over
/// output tiles only; a @ b^T with at most 16 output columns or few rows takes unpacked row dot products instead.
/// Each output element is accumulated in ascending k within fixed k blocks that depend on k alone,
/// so the result is bitwise the same for every thread count.
/// </summary>
public static class CpuGemm
{
    /// <summary>Below this many multiply-adds a product runs on the calling thread: waking helpers costs more.</summary>
    public const long SmallProductThreshold = 32 * 1024;

    // Each thread must get at least this many multiply-adds (about 10 us of work): below that, handing
    // half a product to a helper measured slower than computing it alone (e.g. [128,10] @ [10,512]).
    private const long MinimumWorkPerThread = 1024 * 1024;

    /// <summary>
    /// c[m,n] = alpha * op(a)[m,k] @ op(b)[k,n] + beta * c, row-major contiguous operands; a is stored
    /// [k,m] when <paramref name="transposeA"/>, b is stored [n,k] when <paramref name="transposeB"/>.
    /// beta == 0 overwrites c without reading it. threads &lt;= 0 means Environment.ProcessorCount.
    /// </summary>
    public static void Multiply(bool transposeA, bool transposeB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, ReadOnlySpan<float> b, float beta, Span<float> c, int threads)
        => Multiply(transposeA, transposeB, m, n, k, alpha, a, b, beta, c, threads, MicroKernel.For(transposeA, transposeB, m, n, k));

    /// <summary>
    /// c = alpha * a @ op(b) + beta * c over consecutive row blocks of a and c (virtual shards), bitwise equal to one
    /// <see cref="Multiply(bool, bool, int, int, int, float, ReadOnlySpan{float}, ReadOnlySpan{float}, float, Span{float}, int)"/>
    /// per block. Every kernel's per-element arithmetic depends on k alone, never on m, so blocks that would pick the
    /// same kernel run as one product (B packed once, one pass of the helpers); the kernel is picked by the block's
    /// rows, not by the total.
    /// </summary>
    public static void MultiplyRowBlocks(ReadOnlySpan<int> blockRows, bool transposeB, int n, int k, float alpha,
        ReadOnlySpan<float> a, ReadOnlySpan<float> b, float beta, Span<float> c, int threads)
    {
        int totalRows = 0;
        MicroKernel? shared = null;
        bool oneKernel = true;
        foreach (int rows in blockRows)
        {
            if (rows < 0) throw new ArgumentOutOfRangeException(nameof(blockRows), $"A row block cannot have {rows} rows.");
            totalRows += rows;
            if (rows == 0) continue;
            MicroKernel kernel = MicroKernel.For(false, transposeB, rows, n, k);
            oneKernel &= shared is null || ReferenceEquals(shared, kernel);
            shared = kernel;
        }
        if (shared is null) return;
        if (oneKernel)
        {
            Multiply(false, transposeB, totalRows, n, k, alpha, a, b, beta, c, threads, shared);
            return;
        }
        int start = 0;
        foreach (int rows in blockRows)
        {
            GemmChecks.Validate(start + rows, n, k, a.Length, b.Length, c.Length);
            Multiply(false, transposeB, rows, n, k, alpha, a.Slice(start * k), b, beta, c.Slice(start * n), threads);
            start += rows;
        }
    }

    /// <summary>
    /// c[m,n] = the fixed binary tree sum (level by level, left += right) over consecutive row blocks s of a_s^T @ b_s,
    /// a [rows, m] and b [rows, n] cut into blocks of <paramref name="blockRows"/>[s] rows, a power-of-two count: bitwise
    /// the same as one product per block into a zeroed buffer of its own (a block of no rows gives zeros) followed by
    /// the tree sum of those buffers, without them. Overwrites c.
    /// </summary>
    public static unsafe void MultiplyTransposedBlockTree(ReadOnlySpan<int> blockRows, int m, int n,
        ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int threads)
    {
        if (blockRows.Length == 0 || !System.Numerics.BitOperations.IsPow2(blockRows.Length))
            throw new ArgumentException($"A block tree needs a power-of-two number of row blocks, got {blockRows.Length}.", nameof(blockRows));
        long totalRows = 0;
        foreach (int rows in blockRows)
        {
            if (rows < 0) throw new ArgumentOutOfRangeException(nameof(blockRows), $"A row block cannot have {rows} rows.");
            totalRows += rows;
        }
        if (totalRows > int.MaxValue) throw new ArgumentException($"The row blocks hold {totalRows} rows in all, too many for one product.", nameof(blockRows));
        GemmChecks.Validate(m, n, (int)totalRows, a.Length, b.Length, c.Length);
        if (m == 0 || n == 0) return;
        Span<float> output = c[..(m * n)];
        if (totalRows == 0)
        {
            output.Clear();
            return;
        }
        // One block is a plain product (beta 0 on a fresh product gives the bits of adding it into zeros), with the
        // large tiles of a plain product.
        if (blockRows.Length == 1)
        {
            Multiply(true, false, m, n, blockRows[0], 1f, a, b, 0f, output, threads);
            return;
        }
        fixed (float* aPointer = a, bPointer = b, cPointer = output)
            BlockTreeGemm.Run(blockRows, m, n, aPointer, bPointer, cPointer, ThreadsFor((long)m * n * totalRows, threads));
    }

    internal static unsafe void Multiply(bool transposeA, bool transposeB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, ReadOnlySpan<float> b, float beta, Span<float> c, int threads, MicroKernel kernel)
    {
        GemmChecks.Validate(m, n, k, a.Length, b.Length, c.Length);
        if (!kernel.Supports(transposeA, transposeB))
            throw new ArgumentException($"The {kernel.Kind} kernel does not handle tA={transposeA} tB={transposeB}.", nameof(kernel));
        if (m == 0 || n == 0) return;
        Span<float> output = c[..(m * n)];
        if (k == 0 || alpha == 0f)
        {
            // No products to add: c = beta * c, where beta == 0 clears c without reading it (as BLAS does).
            if (beta == 0f) output.Clear();
            else if (beta != 1f) System.Numerics.Tensors.TensorPrimitives.Multiply(output, beta, output);
            return;
        }
        threads = ThreadsFor((long)m * n * k, threads);
        fixed (float* aPointer = a, bPointer = b, cPointer = output)
        {
            var problem = new GemmProblem
            {
                TransposeA = transposeA,
                TransposeB = transposeB,
                M = m,
                N = n,
                K = k,
                Alpha = alpha,
                Beta = beta,
                A = aPointer,
                B = bPointer,
                C = cPointer,
                Kernel = kernel,
                Plan = GemmPlan.Create(m, n, k, kernel, threads),
            };
            TileDispatcher.Run(problem, threads);
        }
    }

    // Threads worth waking for a product of this many multiply-adds; threads <= 0 means all processors.
    private static int ThreadsFor(long work, int threads)
    {
        if (threads <= 0) threads = Environment.ProcessorCount;
        return work < SmallProductThreshold ? 1 : (int)Math.Min(threads, Math.Max(1, work / MinimumWorkPerThread));
    }
}

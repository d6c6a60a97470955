using System.Numerics.Tensors;

namespace ParallelNet.Tensors.Cpu.Gemm.Internal;

/// <summary>
/// c[m,n] = the fixed binary tree sum over consecutive row blocks s of a_s^T @ b_s (a [rows, m], b [rows, n]): the
/// weight gradient of a layer summed over virtual shards. Each output tile is computed for every block into a scratch
/// tile of this thread (beta 0), then the scratch tiles are added level by level, left += right, and the root level
/// lands in c. Per element these are the adds of AddTree over per-block gradient buffers, and a fresh product equals one
/// added into a zeroed buffer (a sum of products started at +0 is never -0, so adding +0 changes no bit): the result is
/// bitwise that of per-block products and a tree sum, without the per-block buffers, their zeroing and their passes.
/// </summary>
internal sealed unsafe class BlockTreeGemm
{
    // Small tiles: the scratch tiles of all blocks (4 x 48 x 256 floats, 192 KiB, at 4 blocks) stay in L2 until summed.
    private const int MaxTileRows = 48;
    private const int MaxTileColumns = 256;

    [ThreadStatic] private static BlockTreeGemm? current;

    private GemmProblem[] blocks = [];
    private int blockCount;
    private GemmPlan tiling;
    private float* output;
    private int columns;

    /// <summary>Validated by the caller: a power-of-two block count, operands long enough, m and n positive.</summary>
    public static void Run(ReadOnlySpan<int> blockRows, int m, int n, float* a, float* b, float* c, int threads)
    {
        var tree = current ??= new BlockTreeGemm();
        // A tree running on this thread is never re-entered: the dispatcher's helpers only run tiles.
        MicroKernel kernel = MicroKernel.For(true, false, m, n, 1);
        tree.Prepare(blockRows, m, n, a, b, c, kernel, threads);
        try
        {
            TileDispatcher.Run(new GemmProblem { M = m, N = n, C = c, Kernel = kernel, Plan = tree.tiling, Tree = tree }, threads);
        }
        finally
        {
            tree.output = null;
            Array.Clear(tree.blocks);
        }
    }

    private void Prepare(ReadOnlySpan<int> blockRows, int m, int n, float* a, float* b, float* c, MicroKernel kernel, int threads)
    {
        if (blocks.Length < blockRows.Length) blocks = new GemmProblem[blockRows.Length];
        blockCount = blockRows.Length;
        tiling = GemmPlan.Create(m, n, 1, kernel, threads, MaxTileRows, MaxTileColumns);
        output = c;
        columns = n;
        int start = 0;
        for (int s = 0; s < blockCount; s++)
        {
            int rows = blockRows[s];
            blocks[s] = new GemmProblem
            {
                TransposeA = true,
                M = m,
                N = n,
                K = rows,
                Alpha = 1f,
                Beta = 0f,
                A = a + (nint)start * m,
                B = b + (nint)start * n,
                Kernel = kernel,
                // The same tiles for every block (tiling depends on m, n, kernel and threads); k blocks by the block's rows.
                Plan = GemmPlan.Create(m, n, rows, kernel, threads, MaxTileRows, MaxTileColumns),
            };
            start += rows;
        }
    }

    public void RunTile(int tile, GemmWorkspace workspace)
    {
        (int row0, int rows) = tiling.TileRows(tile / tiling.TilesN);
        (int col0, int cols) = tiling.TileColumns(tile % tiling.TilesN);
        int tileFloats = rows * cols;
        float* scratch = workspace.TreeScratch(blockCount * tileFloats);
        for (int s = 0; s < blockCount; s++)
        {
            float* partial = scratch + (nint)s * tileFloats;
            if (blocks[s].K == 0) new Span<float>(partial, tileFloats).Clear();
            else GemmDriver.RunRegion(blocks[s], row0, rows, col0, cols, partial, cols, workspace);
        }
        float* target = output + (nint)row0 * columns + col0;
        if (blockCount == 1)
        {
            for (int i = 0; i < rows; i++) new ReadOnlySpan<float>(scratch + i * cols, cols).CopyTo(new Span<float>(target + (nint)i * columns, cols));
            return;
        }
        for (int width = 1; width < blockCount; width *= 2)
        {
            for (int left = 0; left < blockCount; left += 2 * width)
            {
                float* sum = scratch + (nint)left * tileFloats, right = scratch + (nint)(left + width) * tileFloats;
                if (2 * width < blockCount)
                {
                    TensorPrimitives.Add(new ReadOnlySpan<float>(sum, tileFloats), new ReadOnlySpan<float>(right, tileFloats), new Span<float>(sum, tileFloats));
                    continue;
                }
                // The root: straight into c.
                for (int i = 0; i < rows; i++)
                    TensorPrimitives.Add(new ReadOnlySpan<float>(sum + i * cols, cols), new ReadOnlySpan<float>(right + i * cols, cols), new Span<float>(target + (nint)i * columns, cols));
            }
        }
    }
}

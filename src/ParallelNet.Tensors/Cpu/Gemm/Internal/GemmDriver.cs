namespace ParallelNet.Tensors.Cpu.Gemm.Internal;

/// <summary>One product's operands, already pinned by the caller for the duration of the call.</summary>
internal unsafe struct GemmProblem
{
    public bool TransposeA;
    public bool TransposeB;
    public int M, N, K;
    public float Alpha, Beta;
    public float* A, B, C;
    public MicroKernel Kernel;
    public GemmPlan Plan;
    /// <summary>Set when the product is a tree sum of row-block products (see <see cref="BlockTreeGemm"/>).</summary>
    public BlockTreeGemm? Tree;
}

/// <summary>Computes one output tile over all k blocks, in ascending block order.</summary>
internal static unsafe class GemmDriver
{
    private const int ShortDepth = 32;
    private const int InPlaceRowPanels = 3;

    public static void RunTile(in GemmProblem problem, int tile, GemmWorkspace workspace)
    {
        if (problem.Tree is { } tree)
        {
            tree.RunTile(tile, workspace);
            return;
        }
        GemmPlan plan = problem.Plan;
        (int row0, int rows) = plan.TileRows(tile / plan.TilesN);
        (int col0, int cols) = plan.TileColumns(tile % plan.TilesN);
        if (problem.Kernel.Kind == MicroKernelKind.DotProduct)
        {
            DotProductRows.Run(problem, row0, rows, col0, cols);
            return;
        }
        RunRegion(problem, row0, rows, col0, cols, problem.C + (nint)row0 * problem.N + col0, problem.N, workspace);
    }

    /// <summary>
    /// The output rows [row0, row0 + rows) x columns [col0, col0 + cols) of a panel-kernel product over all k blocks,
    /// written at <paramref name="tileOutput"/> (element (row0, col0)) with row stride <paramref name="ldc"/>.
    /// </summary>
    public static void RunRegion(in GemmProblem problem, int row0, int rows, int col0, int cols, float* tileOutput, nint ldc, GemmWorkspace workspace)
    {
        GemmPlan plan = problem.Plan;
        MicroKernel kernel = problem.Kernel;
        int mr = kernel.Rows, nr = kernel.Columns;
        float* packedA = workspace.PackedA, packedB = workspace.PackedB;

        // A B panel is reused once per row panel of the tile; with three row panels or fewer, packing
        // costs more than it saves (a third of the time of dX at batch 16, m = 6 + 6 + 4), so full panels of an
        // untransposed B are read where they are. So also when k is short (a 10-class layer's dX): a panel of a few
        // rows stays in L1 anyway.
        bool readBInPlace = !problem.TransposeB && (rows <= InPlaceRowPanels * mr || problem.K <= ShortDepth);

        for (int block = 0; block < plan.BlockCount; block++)
        {
            (int p0, int kc) = plan.Block(block);
            if (!readBInPlace)
                GemmPacking.PackB(problem.TransposeB, problem.B, problem.N, problem.K, col0, cols, p0, kc, nr, packedB, workspace.PackingScratch);
            // Later blocks add to what the earlier ones wrote: beta 1 multiplies exactly.
            float beta = block == 0 ? problem.Beta : 1f;
            // The packed B block serves all the tile's packed A blocks.
            for (int ic = 0; ic < rows; ic += plan.PackedRows)
            {
                int packedRows = Math.Min(plan.PackedRows, rows - ic);
                GemmPacking.PackA(problem.TransposeA, problem.A, problem.M, problem.K, row0 + ic, packedRows, p0, kc, mr, packedA, workspace.PackingScratch);
                RunPackedBlock(problem, kernel, p0, kc, beta, packedRows, col0, cols, readBInPlace, tileOutput + ic * ldc, ldc, workspace);
            }
        }
    }

    // The rows of one packed A block against every B panel of the tile's columns.
    private static void RunPackedBlock(in GemmProblem problem, MicroKernel kernel, int p0, int kc, float beta, int rows, int col0, int cols,
        bool readBInPlace, float* blockOutput, nint ldc, GemmWorkspace workspace)
    {
        int mr = kernel.Rows, nr = kernel.Columns;
        var kernelFunction = kernel.Function;
        float* packedA = workspace.PackedA, packedB = workspace.PackedB, edge = workspace.EdgeTile;
        for (int jr = 0; jr < cols; jr += nr)
        {
            int width = Math.Min(nr, cols - jr);
            float* bPanel = packedB + (nint)jr * kc;
            nint ldb = nr;
            if (readBInPlace && width == nr)
            {
                bPanel = problem.B + (nint)p0 * problem.N + col0 + jr;
                ldb = problem.N;
            }
            else if (readBInPlace)
            {
                GemmPacking.PackB(false, problem.B, problem.N, problem.K, col0 + jr, width, p0, kc, nr, bPanel, workspace.PackingScratch);
            }
            for (int ir = 0; ir < rows; ir += mr)
            {
                int height = Math.Min(mr, rows - ir);
                float* aPanel = packedA + (nint)ir * kc;
                float* c = blockOutput + ir * ldc + jr;
                // A panel of few valid rows skips the FMAs of its padding rows where the kernel has a short twin.
                bool isShort = height <= kernel.ShortRows;
                var function = isShort ? kernel.ShortFunction : kernelFunction;
                if (width == nr && height == (isShort ? kernel.ShortRows : mr))
                {
                    function(kc, aPanel, bPanel, ldb, c, ldc, problem.Alpha, beta);
                    continue;
                }
                // Edge tile: run the same kernel on a full-size copy so every element sees the
                // same arithmetic as in a full tile, then copy the valid part back.
                if (beta != 0f) CopyTile(c, ldc, edge, nr, height, width);
                function(kc, aPanel, bPanel, ldb, edge, nr, problem.Alpha, beta);
                CopyTile(edge, nr, c, ldc, height, width);
            }
        }
    }

    private static void CopyTile(float* source, nint sourceStride, float* destination, nint destinationStride, int rows, int columns)
    {
        for (int i = 0; i < rows; i++)
            new ReadOnlySpan<float>(source + i * sourceStride, columns).CopyTo(new Span<float>(destination + i * destinationStride, columns));
    }
}

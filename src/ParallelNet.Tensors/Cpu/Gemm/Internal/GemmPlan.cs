namespace ParallelNet.Tensors.Cpu.Gemm.Internal;

/// <summary>
/// How one product is cut: output tiles (the unit of parallel work, each at most
/// <see cref="MaxTileRows"/> x <see cref="MaxTileColumns"/>), k blocks of at most
/// <see cref="MaxBlockDepth"/>, and within a tile the row blocks of A packed at a time (<see cref="PackedRows"/>).
/// The k blocking depends on k alone, never on the thread count or the kernel, which is what makes the result
/// bitwise independent of both; tiles and packed row blocks only decide what is computed when.
/// </summary>
internal readonly struct GemmPlan
{
    public const int MaxBlockDepth = 256;

    // The packed A block (MaxPackedRows x MaxBlockDepth, 384 KiB) stays in L2 while one B panel (16 or 32 x 256)
    // sits in L1. Two threads on SMT siblings share one L2, so each packs half as many rows.
    public const int MaxPackedRows = 384;
    private const int SharedL2PackedRows = MaxPackedRows / 2;

    // A tile packs its B block (tile columns x block depth) once for all its packed A blocks, and A once for all its
    // columns: large tiles pack each operand fewer times. The tiles stay many enough for the threads (see Create).
    public const int MaxTileRows = 2 * MaxPackedRows;
    public const int MaxTileColumns = 1024;

    // The dot-product path rereads a tile's rows of a for every block of b rows: a tile's rows of a must stay in L2
    // beside the stream of b (as in a small shard's product of 32 rows), also when shards are batched into one product.
    private const int MaxDotProductTileFloats = 32 * 1024;

    private static int TileRowLimit(MicroKernel kernel, int k) => kernel.Kind == MicroKernelKind.DotProduct
        ? Math.Clamp(MaxDotProductTileFloats / Math.Max(1, k), kernel.Rows, MaxPackedRows)
        : MaxTileRows;

    public int RowPanels { get; }
    public int ColumnPanels { get; }
    public int TilesM { get; }
    public int TilesN { get; }
    public int BlockCount { get; }
    public int BlockDepth { get; }
    /// <summary>Rows of A packed at a time within a tile, a multiple of the kernel's rows.</summary>
    public int PackedRows { get; }
    private readonly int m, n, k, panelRows, panelColumns;

    private GemmPlan(int m, int n, int k, int panelRows, int panelColumns, int tilesM, int tilesN, int packedRows)
    {
        PackedRows = packedRows;
        this.m = m;
        this.n = n;
        this.k = k;
        this.panelRows = panelRows;
        this.panelColumns = panelColumns;
        RowPanels = (m + panelRows - 1) / panelRows;
        ColumnPanels = (n + panelColumns - 1) / panelColumns;
        TilesM = tilesM;
        TilesN = tilesN;
        // Equal-depth blocks (e.g. 784 = 262+261+261) instead of 256+256+256+16.
        BlockCount = Math.Max(1, (k + MaxBlockDepth - 1) / MaxBlockDepth);
        BlockDepth = (k + BlockCount - 1) / BlockCount;
    }

    public int TileCount => TilesM * TilesN;

    /// <summary>The plan of a product; smaller tile limits than the defaults may be given (whole panels at least).</summary>
    public static GemmPlan Create(int m, int n, int k, MicroKernel kernel, int threads, int maxTileRows = MaxTileRows, int maxTileColumns = MaxTileColumns)
    {
        int rowPanels = (m + kernel.Rows - 1) / kernel.Rows;
        int columnPanels = (n + kernel.Columns - 1) / kernel.Columns;
        int tilesM = Ceiling(rowPanels, Math.Max(1, Math.Min(maxTileRows, TileRowLimit(kernel, k)) / kernel.Rows));
        int tilesN = Ceiling(columnPanels, Math.Max(1, Math.Min(maxTileColumns, MaxTileColumns) / kernel.Columns));
        // More tiles than the cache sizes ask for, until every thread has work and the tiles divide
        // evenly among the threads (a product of 3 tiles on 2 threads would leave one idle a third of the time,
        // one of 21 tiles, as 768-row tiles cut 15,488 rows, about a twentieth).
        while (threads > 1 && (tilesM * tilesN < threads || (tilesM * tilesN % threads != 0 && tilesM * tilesN < 16 * threads)))
        {
            int rowsPerTile = Ceiling(rowPanels, tilesM) * kernel.Rows;
            int columnsPerTile = Ceiling(columnPanels, tilesN) * kernel.Columns;
            bool canSplitRows = tilesM < rowPanels, canSplitColumns = tilesN < columnPanels;
            if (canSplitColumns && (columnsPerTile >= rowsPerTile || !canSplitRows)) tilesN++;
            else if (canSplitRows) tilesM++;
            else break;
        }
        int packedRows = Math.Max(1, (threads > 1 ? SharedL2PackedRows : MaxPackedRows) / kernel.Rows) * kernel.Rows;
        return new GemmPlan(m, n, k, kernel.Rows, kernel.Columns, tilesM, tilesN, packedRows);
    }

    public (int Start, int Count) TileRows(int tileRow) => Span(tileRow, TilesM, RowPanels, panelRows, m);

    public (int Start, int Count) TileColumns(int tileColumn) => Span(tileColumn, TilesN, ColumnPanels, panelColumns, n);

    public (int Start, int Depth) Block(int block)
    {
        int start = block * BlockDepth;
        return (start, Math.Min(BlockDepth, k - start));
    }

    // Whole panels are spread evenly over the tiles, so tiles differ by at most one panel.
    private static (int Start, int Count) Span(int tile, int tiles, int panels, int panelSize, int limit)
    {
        int start = (int)((long)tile * panels / tiles) * panelSize;
        int end = Math.Min(limit, (int)((long)(tile + 1) * panels / tiles) * panelSize);
        return (start, end - start);
    }

    private static int Ceiling(int value, int divisor) => Math.Max(1, (value + divisor - 1) / divisor);
}

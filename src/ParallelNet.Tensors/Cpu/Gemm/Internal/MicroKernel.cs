using System.Runtime.Intrinsics;

namespace ParallelNet.Tensors.Cpu.Gemm.Internal;

internal enum MicroKernelKind
{
    /// <summary>AVX-512, 8 x 32: the main kernel.</summary>
    Vector512,
    /// <summary>AVX-512, 5 x 32: for row counts that 8 pads badly (10 rows = two full tiles).</summary>
    Vector512FiveRows,
    /// <summary>AVX-512, 8 x 16: for outputs at most 16 columns wide.</summary>
    Vector512Narrow,
    /// <summary>AVX2, 6 x 16.</summary>
    Vector256,
    /// <summary>Portable scalar 4 x 4.</summary>
    Scalar,
    /// <summary>AVX-512 or AVX2 row dot products without packing, for a @ b^T narrow or with few rows (see <see cref="DotProductRows"/>).</summary>
    DotProduct,
}

/// <summary>
/// A register-tile kernel and its tile shape: c[Rows x Columns] = alpha * (A panel) @ (B panel) + beta * c,
/// where the A panel holds kc steps of Rows floats and the B panel kc steps of Columns floats, ldb
/// floats apart (Columns when packed, n when read in place), and beta == 0 means c is not read. Every kernel accumulates each output element with one fused
/// multiply-add per k step in ascending k, so all panel kinds give bitwise the same result. The
/// <see cref="MicroKernelKind.DotProduct"/> kind has no panel function and sums in another (fixed) order.
/// </summary>
internal sealed unsafe class MicroKernel
{
    public MicroKernelKind Kind { get; }
    public int Rows { get; }
    public int Columns { get; }
    public delegate*<int, float*, float*, nint, float*, nint, float, float, void> Function { get; }

    /// <summary>
    /// Rows of <see cref="ShortFunction"/>, 0 when there is none: a kernel for a row panel of at most this many valid
    /// rows, reading the same packed panels and doing the same arithmetic per element, without the padding rows' FMAs.
    /// </summary>
    public int ShortRows { get; }
    public delegate*<int, float*, float*, nint, float*, nint, float, float, void> ShortFunction { get; }

    private MicroKernel(MicroKernelKind kind, int rows, int columns, delegate*<int, float*, float*, nint, float*, nint, float, float, void> function,
        int shortRows = 0, delegate*<int, float*, float*, nint, float*, nint, float, float, void> shortFunction = null)
    {
        Kind = kind;
        Rows = rows;
        Columns = columns;
        Function = function;
        ShortRows = shortRows;
        ShortFunction = shortFunction;
    }

    public static readonly MicroKernel Vector512Kernel = new(MicroKernelKind.Vector512, MicroKernel512x8x32.Rows, MicroKernel512x8x32.Columns, &MicroKernel512x8x32.Run);
    public static readonly MicroKernel Vector512FiveRowsKernel = new(MicroKernelKind.Vector512FiveRows, MicroKernel512x5x32.Rows, MicroKernel512x5x32.Columns, &MicroKernel512x5x32.Run);
    public static readonly MicroKernel Vector512NarrowKernel = new(MicroKernelKind.Vector512Narrow, MicroKernel512x8x16.Rows, MicroKernel512x8x16.Columns, &MicroKernel512x8x16.Run);
    public static readonly MicroKernel Vector256Kernel = new(MicroKernelKind.Vector256, MicroKernel256.Rows, MicroKernel256.Columns, &MicroKernel256.Run,
        MicroKernel256Short.Rows, &MicroKernel256Short.Run);
    public static readonly MicroKernel ScalarKernel = new(MicroKernelKind.Scalar, MicroKernelScalar.Rows, MicroKernelScalar.Columns, &MicroKernelScalar.Run);
    // Rows and Columns only steer the tiling: row tiles in multiples of a dot-product block's rows, one column tile.
    public static readonly MicroKernel DotProductKernel = new(MicroKernelKind.DotProduct, DotProductRows.BlockRows, DotProductRows.MaxColumns, null);

    /// <summary>The largest register tile of any kernel (the edge-tile scratch size).</summary>
    public const int MaxTileFloats = 8 * 32;

    public static MicroKernel Of(MicroKernelKind kind) => kind switch
    {
        MicroKernelKind.Vector512 => Vector512Kernel,
        MicroKernelKind.Vector512FiveRows => Vector512FiveRowsKernel,
        MicroKernelKind.Vector512Narrow => Vector512NarrowKernel,
        MicroKernelKind.Vector256 => Vector256Kernel,
        MicroKernelKind.Scalar => ScalarKernel,
        MicroKernelKind.DotProduct => DotProductKernel,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown micro-kernel kind."),
    };

    public bool Supports(bool transposeA, bool transposeB) =>
        Kind != MicroKernelKind.DotProduct || DotProductRows.Supports(transposeA, transposeB);

    /// <summary>
    /// The widest kernel the hardware runs natively whose tile wastes the least on padding for an m x n
    /// output. Depends on the shape alone, never on the thread count.
    /// </summary>
    public static MicroKernel For(bool transposeA, bool transposeB, int m, int n, int k)
    {
        if (k >= 64 && DotProductRows.Supports(transposeA, transposeB) && (n <= DotProductRows.MaxColumns || m <= DotProductRows.MaxRowsForWideOutputs))
            return DotProductKernel;
        if (Vector512.IsHardwareAccelerated)
        {
            if (n <= 16) return Vector512NarrowKernel;
            return PaddedRows(m, 5) < PaddedRows(m, 8) ? Vector512FiveRowsKernel : Vector512Kernel;
        }
        return Vector256.IsHardwareAccelerated ? Vector256Kernel : ScalarKernel;
    }

    private static int PaddedRows(int m, int rows) => (m + rows - 1) / rows * rows;
}

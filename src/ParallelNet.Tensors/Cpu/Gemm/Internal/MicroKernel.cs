using System.Runtime.Intrinsics;

namespace ParallelNet.Tensors.Cpu.Gemm.Internal;

/// <summary>
/// c[MR x NR] = alpha * (packed A panel) @ (packed B panel) + beta * c, for one register tile.
/// A panel: kc steps of MR floats; B panel: kc steps of NR floats. beta == 0 means c is not read.
/// </summary>
internal unsafe delegate void MicroKernelFunction(int kc, float* a, float* b, float* c, nint ldc, float alpha, float beta);

internal enum MicroKernelKind
{
    Vector512,
    Vector256,
    Scalar,
}

/// <summary>
/// A register-tile kernel and its tile shape. Every kernel accumulates each output element with one
/// fused multiply-add per k step in ascending k, so all kinds give bitwise the same result on one machine.
/// </summary>
internal sealed unsafe class MicroKernel
{
    public MicroKernelKind Kind { get; }
    public int Rows { get; }
    public int Columns { get; }
    public delegate*<int, float*, float*, float*, nint, float, float, void> Function { get; }

    private MicroKernel(MicroKernelKind kind, int rows, int columns, delegate*<int, float*, float*, float*, nint, float, float, void> function)
    {
        Kind = kind;
        Rows = rows;
        Columns = columns;
        Function = function;
    }

    public static readonly MicroKernel Vector512Kernel = new(MicroKernelKind.Vector512, MicroKernel512.Rows, MicroKernel512.Columns, &MicroKernel512.Run);
    public static readonly MicroKernel Vector256Kernel = new(MicroKernelKind.Vector256, MicroKernel256.Rows, MicroKernel256.Columns, &MicroKernel256.Run);
    public static readonly MicroKernel ScalarKernel = new(MicroKernelKind.Scalar, MicroKernelScalar.Rows, MicroKernelScalar.Columns, &MicroKernelScalar.Run);

    /// <summary>The widest kernel the hardware runs natively.</summary>
    public static MicroKernel Best { get; } =
        Vector512.IsHardwareAccelerated ? Vector512Kernel
        : Vector256.IsHardwareAccelerated ? Vector256Kernel
        : ScalarKernel;

    public static MicroKernel Of(MicroKernelKind kind) => kind switch
    {
        MicroKernelKind.Vector512 => Vector512Kernel,
        MicroKernelKind.Vector256 => Vector256Kernel,
        MicroKernelKind.Scalar => ScalarKernel,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown micro-kernel kind."),
    };
}

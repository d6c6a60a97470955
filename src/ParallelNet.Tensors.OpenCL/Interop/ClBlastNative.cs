using System.Runtime.InteropServices;

namespace ParallelNet.Tensors.OpenCL.Interop;

/// <summary>CLBlast's C API (libclblast.so.1): single-precision GEMM only.</summary>
internal static unsafe partial class ClBlastNative
{
    private const string Library = "libclblast.so.1";

    public const int LayoutRowMajor = 101;
    public const int TransposeNo = 111;
    public const int TransposeYes = 112;
    public const int PrecisionSingle = 32;

    [LibraryImport(Library)]
    public static partial int CLBlastSgemm(int layout, int transposeA, int transposeB, nuint m, nuint n, nuint k, float alpha,
        nint a, nuint aOffset, nuint aLd, nint b, nuint bOffset, nuint bLd, float beta, nint c, nuint cOffset, nuint cLd,
        nint* queue, nint* @event);

    [LibraryImport(Library)]
    public static partial int CLBlastOverrideParameters(nint device, byte* kernelName, int precision, nuint count, byte** names, nuint* values);
}

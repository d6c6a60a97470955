using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace ParallelNet.Cli.Bench;

/// <summary>
/// The peer for the GEMM benchmark: OpenBLAS sgemm from Debian's libopenblas0-pthread, loaded into
/// this process. OpenBLAS picks its kernels when the library loads, from OPENBLAS_CORETYPE, so
/// <see cref="TryLoad"/> puts that variable into the native environment first: SkylakeX where the CPU
/// has AVX-512, else unset so OpenBLAS detects the core itself (SkylakeX kernels on an AVX2-only CPU,
/// e.g. AMD Zen 3, die of an illegal instruction).
/// </summary>
internal static unsafe partial class OpenBlas
{
    public const string LibraryName = "libopenblas.so.0";
    /// <summary>The core type the peer should run here: SkylakeX with AVX-512, else null (OpenBLAS's own detection).</summary>
    public static string? PreferredCoreType => Avx512F.IsSupported ? "SkylakeX" : null;

    private const int RowMajor = 101, NoTranspose = 111, Transpose = 112;

    private static delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> sgemm;
    private static delegate* unmanaged<int, void> setThreadCount;
    private static delegate* unmanaged<nint> coreName;

    /// <summary>
    /// Loads the library with OPENBLAS_CORETYPE=<see cref="PreferredCoreType"/>. Returns false with a one-line reason when it is
    /// missing. <paramref name="coreType"/> is the core OpenBLAS reports it runs, to confirm the variable took.
    /// </summary>
    public static bool TryLoad(out string coreType, out string failure)
    {
        coreType = "";
        failure = "";
        if (sgemm == null)
        {
            // .NET keeps its own copy of the environment on Unix: Environment.SetEnvironmentVariable
            // is invisible to native getenv, so set the variable in libc as well.
            string? preferred = PreferredCoreType;
            Environment.SetEnvironmentVariable("OPENBLAS_CORETYPE", preferred);
            if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
                _ = preferred is null ? NativeEnvironment.unsetenv("OPENBLAS_CORETYPE") : NativeEnvironment.setenv("OPENBLAS_CORETYPE", preferred, 1);
            if (!NativeLibrary.TryLoad(LibraryName, out nint handle))
            {
                failure = $"OpenBLAS ({LibraryName}) could not be loaded; install libopenblas0-pthread to compare. Showing ours only.";
                return false;
            }
            if (!NativeLibrary.TryGetExport(handle, "cblas_sgemm", out nint sgemmAddress)
                || !NativeLibrary.TryGetExport(handle, "openblas_set_num_threads", out nint threadsAddress))
            {
                failure = $"{LibraryName} has no cblas_sgemm/openblas_set_num_threads export. Showing ours only.";
                return false;
            }
            sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)sgemmAddress;
            setThreadCount = (delegate* unmanaged<int, void>)threadsAddress;
            if (NativeLibrary.TryGetExport(handle, "openblas_get_corename", out nint coreNameAddress))
                coreName = (delegate* unmanaged<nint>)coreNameAddress;
        }
        coreType = coreName == null ? "unknown" : Marshal.PtrToStringUTF8(coreName()) ?? "unknown";
        return true;
    }

    public static void SetThreads(int threads) => setThreadCount(threads);

    /// <summary>Same contract as CpuGemm.Multiply: row-major, op(a) [m,k], op(b) [k,n], c [m,n].</summary>
    public static void Multiply(bool transposeA, bool transposeB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, ReadOnlySpan<float> b, float beta, Span<float> c)
    {
        fixed (float* aPointer = a, bPointer = b, cPointer = c)
        {
            sgemm(RowMajor, transposeA ? Transpose : NoTranspose, transposeB ? Transpose : NoTranspose, m, n, k,
                alpha, aPointer, transposeA ? m : k, bPointer, transposeB ? k : n, beta, cPointer, n);
        }
    }

    private static partial class NativeEnvironment
    {
        [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int setenv(string name, string value, int overwrite);

        [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int unsetenv(string name);
    }
}

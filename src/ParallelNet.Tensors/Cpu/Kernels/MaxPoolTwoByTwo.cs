using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ParallelNet.Tensors.Cpu.Kernels;

/// <summary>
/// Max pooling with a 2x2 window, stride 2 and no padding (the cnn presets), 16 windows per AVX-512
/// step: the even and odd columns of a row pair are split with one two-source permute, and the same
/// first-maximum rule as the scalar path (a later element wins only if strictly greater, or if it is
/// the first NaN) picks the winner, so results are bitwise those of <see cref="Pooling"/>'s scalar code.
/// Reads may run past a row into the next one (never past the tensor); those lanes are discarded,
/// and partial vectors are written with masked stores.
/// </summary>
internal static class MaxPoolTwoByTwo
{
    private const int Lanes = 16;

    public static bool IsSupported => Avx512F.IsSupported;

    private static readonly Vector512<int> EvenColumns = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    private static readonly Vector512<int> OddColumns = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    private static readonly Vector512<int> InterleaveLow = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    private static readonly Vector512<int> InterleaveHigh = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);

    /// <summary>Windows [j, j + count) of output row starting at <paramref name="outIndex"/>; returns how many it did (the rest go scalar).</summary>
    public static unsafe int Forward(ReadOnlySpan<float> x, Span<float> y, int topIndex, int width, int outIndex, int ow)
    {
        // Stores go through pointers: a row that does not fit is left to the bounds-checked scalar path.
        if (outIndex < 0 || outIndex + ow > y.Length || topIndex < 0) return 0;
        int j = 0;
        fixed (float* output = y)
        {
            for (; j < ow; j += Lanes)
            {
                int bottom = topIndex + width + 2 * j;
                if (bottom + 2 * Lanes > x.Length) break;
                var (a, b, c, d) = LoadWindows(x, topIndex + 2 * j, bottom);
                var best = Select(Select(Select(a, b, out _), c, out _), d, out _);
                Store(best, output + outIndex + j, Math.Min(Lanes, ow - j));
            }
        }
        return Math.Min(j, ow);
    }

    /// <summary>Writes every position of each window: dy at its winner, 0 elsewhere; returns the windows done.</summary>
    public static unsafe int Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, int topIndex, int width, int outIndex, int ow)
    {
        if (topIndex < 0 || topIndex + width + 2 * ow > dx.Length || outIndex < 0) return 0;
        int j = 0;
        fixed (float* gradient = dx)
        {
            for (; j < ow; j += Lanes)
            {
                int top = topIndex + 2 * j, bottom = top + width;
                if (bottom + 2 * Lanes > x.Length || outIndex + j + Lanes > dy.Length) break;
                var (a, b, c, d) = LoadWindows(x, top, bottom);
                var ab = Select(a, b, out var winsB);
                var abc = Select(ab, c, out var winsC);
                Select(abc, d, out var winsD);
                var upstream = Vector512.Create(dy.Slice(outIndex + j, Lanes));
                // A later winner overrides every earlier one.
                var toD = upstream & winsD;
                var toC = Vector512.AndNot(upstream & winsC, winsD);
                var toB = Vector512.AndNot(Vector512.AndNot(upstream & winsB, winsC), winsD);
                var toA = Vector512.AndNot(Vector512.AndNot(Vector512.AndNot(upstream, winsB), winsC), winsD);
                int floats = 2 * Math.Min(Lanes, ow - j);
                Store(Avx512F.PermuteVar16x32x2(toA, InterleaveLow, toB), gradient + top, Math.Min(Lanes, floats));
                Store(Avx512F.PermuteVar16x32x2(toA, InterleaveHigh, toB), gradient + top + Lanes, floats - Lanes);
                Store(Avx512F.PermuteVar16x32x2(toC, InterleaveLow, toD), gradient + bottom, Math.Min(Lanes, floats));
                Store(Avx512F.PermuteVar16x32x2(toC, InterleaveHigh, toD), gradient + bottom + Lanes, floats - Lanes);
            }
        }
        return Math.Min(j, ow);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float> A, Vector512<float> B, Vector512<float> C, Vector512<float> D) LoadWindows(ReadOnlySpan<float> x, int top, int bottom)
    {
        var top0 = Vector512.Create(x.Slice(top, Lanes));
        var top1 = Vector512.Create(x.Slice(top + Lanes, Lanes));
        var bottom0 = Vector512.Create(x.Slice(bottom, Lanes));
        var bottom1 = Vector512.Create(x.Slice(bottom + Lanes, Lanes));
        return (Avx512F.PermuteVar16x32x2(top0, EvenColumns, top1), Avx512F.PermuteVar16x32x2(top0, OddColumns, top1),
                Avx512F.PermuteVar16x32x2(bottom0, EvenColumns, bottom1), Avx512F.PermuteVar16x32x2(bottom0, OddColumns, bottom1));
    }

    /// <summary>candidate where it is strictly greater than best or is a NaN while best is not; <paramref name="wins"/> is that mask.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Select(Vector512<float> best, Vector512<float> candidate, out Vector512<float> wins)
    {
        wins = Vector512.GreaterThan(candidate, best) | Vector512.AndNot(Vector512.IsNaN(candidate), Vector512.IsNaN(best));
        return Vector512.ConditionalSelect(wins, candidate, best);
    }

    /// <summary>Stores the first <paramref name="count"/> lanes (none if count &lt;= 0); masked lanes are never touched, so neighbours owned by other threads are safe.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Store(Vector512<float> value, float* destination, int count)
    {
        if (count >= Lanes) value.Store(destination);
        else if (count > 0) Avx512F.MaskStore(destination, Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle(), value);
    }
}

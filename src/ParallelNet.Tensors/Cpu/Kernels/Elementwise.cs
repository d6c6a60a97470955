using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using ParallelNet.Tensors.Cpu.Internal;

namespace ParallelNet.Tensors.Cpu.Kernels;

/// <summary>Elementwise kernels over flat spans. None of them reduces over samples except the explicitly ordered sums.</summary>
public static class Elementwise
{
    /// <summary>
    /// Elements per call of TensorPrimitives in the kernels below. Past 256 KB of output TensorPrimitives writes with
    /// non-temporal stores, which send the result past the caches to memory, and every caller here reads its result again
    /// soon (the optimizer's next pass, the weights sent next): an in-place scale of the mlp's 2.7 MB gradients took
    /// 0.23 ms in one call and 0.05 ms in 8 KB pieces. Elementwise operations, so the pieces cannot change a bit.
    /// </summary>
    public const int CachedPiece = 16 * 1024;

    public static void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        KernelChecks.SameLength("Add", a.Length, b.Length, "a", "b");
        KernelChecks.SameLength("Add", a.Length, y.Length, "a", "y");
        for (int i = 0; i < y.Length; i += CachedPiece)
        {
            int n = Math.Min(CachedPiece, y.Length - i);
            TensorPrimitives.Add(a.Slice(i, n), b.Slice(i, n), y.Slice(i, n));
        }
    }

    /// <summary>y += alpha * x.</summary>
    public static void Axpy(float alpha, ReadOnlySpan<float> x, Span<float> y)
    {
        KernelChecks.SameLength("Axpy", x.Length, y.Length, "x", "y");
        for (int i = 0; i < y.Length; i += CachedPiece)
        {
            var piece = y.Slice(i, Math.Min(CachedPiece, y.Length - i));
            TensorPrimitives.MultiplyAdd(x.Slice(i, piece.Length), alpha, piece, piece);
        }
    }

    public static void Scale(Span<float> x, float alpha)
    {
        for (int i = 0; i < x.Length; i += CachedPiece)
        {
            var piece = x.Slice(i, Math.Min(CachedPiece, x.Length - i));
            TensorPrimitives.Multiply(piece, alpha, piece);
        }
    }

    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        KernelChecks.SameLength("Multiply", a.Length, b.Length, "a", "b");
        KernelChecks.SameLength("Multiply", a.Length, y.Length, "a", "y");
        for (int i = 0; i < y.Length; i += CachedPiece)
        {
            int n = Math.Min(CachedPiece, y.Length - i);
            TensorPrimitives.Multiply(a.Slice(i, n), b.Slice(i, n), y.Slice(i, n));
        }
    }

    public static void Clamp(Span<float> x, float min, float max)
    {
        if (!(min <= max)) throw new ArgumentException($"Clamp: min ({min}) must not exceed max ({max}).");
        for (int i = 0; i < x.Length; i += CachedPiece)
        {
            var piece = x.Slice(i, Math.Min(CachedPiece, x.Length - i));
            TensorPrimitives.Min(piece, max, piece);
            TensorPrimitives.Max(piece, min, piece);
        }
    }

    /// <summary>
    /// Σ x² in double: sixteen lane sums in a fixed order that depends on the length alone, then the tail in index
    /// order. Lane-wise Vector256 arithmetic is exact IEEE on every machine (emulated where not accelerated), so the
    /// result is the same on every machine and thread count. One serial chain of dependent adds took about a
    /// millisecond per step on an MLP's 670k gradients.
    /// </summary>
    public static double SumOfSquares(ReadOnlySpan<float> x)
    {
        var sum = new SumOfSquaresAccumulator();
        sum.Add(x, last: true);
        return sum.Total;
    }

    /// <summary>
    /// <see cref="SumOfSquares"/> of a span handed over in consecutive pieces (each a multiple of 16 long but the last),
    /// bitwise the same: the sixteen lane sums carry from piece to piece, and the last piece adds the lanes and the tail.
    /// Lets a pass that produces values chunk by chunk (the parameter server's combine) measure them while they are in L1.
    /// </summary>
    public struct SumOfSquaresAccumulator
    {
        private Vector256<double> _s0, _s1, _s2, _s3;
        private bool _anyGroup, _done;
        private double _total;

        /// <summary>The sum, once the last piece was added.</summary>
        public readonly double Total => _done ? _total : throw new InvalidOperationException("The sum of squares is complete only after its last piece.");

        public void Add(ReadOnlySpan<float> piece, bool last)
        {
            if (_done) throw new InvalidOperationException("The sum of squares already had its last piece.");
            if (!last && piece.Length % 16 != 0)
                throw new ArgumentException($"Every piece but the last must hold a multiple of 16 values (the lanes' groups), got {piece.Length}.", nameof(piece));
            int i = 0;
            if (piece.Length >= 16)
            {
                var (s0, s1, s2, s3) = (_s0, _s1, _s2, _s3);
                for (; i <= piece.Length - 16; i += 16)
                {
                    var (a0, a1) = Vector256.Widen(Vector256.Create(piece.Slice(i, 8)));
                    var (b0, b1) = Vector256.Widen(Vector256.Create(piece.Slice(i + 8, 8)));
                    s0 = Vector256.FusedMultiplyAdd(a0, a0, s0);
                    s1 = Vector256.FusedMultiplyAdd(a1, a1, s1);
                    s2 = Vector256.FusedMultiplyAdd(b0, b0, s2);
                    s3 = Vector256.FusedMultiplyAdd(b1, b1, s3);
                }
                (_s0, _s1, _s2, _s3) = (s0, s1, s2, s3);
                _anyGroup = true;
            }
            if (!last) return;
            double sum = 0;
            if (_anyGroup)
            {
                var lanes = (_s0 + _s1) + (_s2 + _s3);
                sum = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
            }
            for (; i < piece.Length; i++) sum += (double)piece[i] * piece[i];
            _total = sum;
            _done = true;
        }
    }

    public static bool HasNonFinite(ReadOnlySpan<float> x)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            // v - v is 0 for finite v and NaN for ±Inf and NaN.
            for (; i + Vector256<float>.Count <= x.Length; i += Vector256<float>.Count)
            {
                var v = Vector256.Create(x.Slice(i, Vector256<float>.Count));
                var d = v - v;
                if (!Vector256.EqualsAll(d, d)) return true;
            }
        }
        for (; i < x.Length; i++)
        {
            if (!float.IsFinite(x[i])) return true;
        }
        return false;
    }

    /// <summary>x[r, c] += bias[c].</summary>
    public static void AddRowBias(Span<float> x, ReadOnlySpan<float> bias)
    {
        KernelChecks.DivisibleBy("AddRowBias", "x", x.Length, bias.Length, "bias length");
        for (int offset = 0; offset < x.Length; offset += bias.Length)
        {
            var row = x.Slice(offset, bias.Length);
            TensorPrimitives.Add(row, bias, row);
        }
    }

    /// <summary>sum[c] += Σ_r x[r, c]; rows are added one after another in ascending order.</summary>
    public static void AccumulateColumnSums(ReadOnlySpan<float> x, Span<float> sum)
    {
        KernelChecks.DivisibleBy("AccumulateColumnSums", "x", x.Length, sum.Length, "sum length");
        for (int offset = 0; offset < x.Length; offset += sum.Length)
            TensorPrimitives.Add(sum, x.Slice(offset, sum.Length), sum);
    }

    /// <summary>x[n, c, i] += bias[c]; x is [n, channels, inner].</summary>
    public static void AddChannelBias(Span<float> x, ReadOnlySpan<float> bias, int channels, int inner)
    {
        KernelChecks.Length("AddChannelBias", "bias", bias.Length, channels);
        KernelChecks.DivisibleBy("AddChannelBias", "x", x.Length, channels * inner, "channels * inner");
        for (int offset = 0, c = 0; offset < x.Length; offset += inner, c = c + 1 == channels ? 0 : c + 1)
        {
            var plane = x.Slice(offset, inner);
            TensorPrimitives.Add(plane, bias[c], plane);
        }
    }

    /// <summary>
    /// sum[c] += Σ_n Σ_i x[n, c, i]: each sample's plane is summed by <see cref="PlaneSum"/> (vectorized
    /// over i in a fixed lane order), the planes are added in double in ascending n, and the total is
    /// added to sum[c] once.
    /// </summary>
    public static void AccumulateChannelSums(ReadOnlySpan<float> x, Span<float> sum, int channels, int inner, int firstChannel = 0, int channelCount = -1)
    {
        KernelChecks.Length("AccumulateChannelSums", "sum", sum.Length, channels);
        KernelChecks.DivisibleBy("AccumulateChannelSums", "x", x.Length, channels * inner, "channels * inner");
        int samples = x.Length / (channels * inner);
        for (int c = firstChannel, end = KernelChecks.ChannelEnd(channels, firstChannel, channelCount); c < end; c++)
        {
            double total = 0;
            for (int n = 0; n < samples; n++) total += PlaneSum(x.Slice((n * channels + c) * inner, inner));
            sum[c] += (float)total;
        }
    }

    /// <summary>
    /// Σ plane: float partial sums in vector lanes (element i always lands in lane i mod width), the
    /// lanes then added in double in lane order, then the scalar tail; the order depends only on the length.
    /// </summary>
    internal static double PlaneSum(ReadOnlySpan<float> plane)
    {
        int i = 0;
        double total = 0;
        if (Vector512.IsHardwareAccelerated && plane.Length >= Vector512<float>.Count)
        {
            var lanes = Vector512<float>.Zero;
            for (; i <= plane.Length - Vector512<float>.Count; i += Vector512<float>.Count)
                lanes += Vector512.Create(plane.Slice(i, Vector512<float>.Count));
            for (int lane = 0; lane < Vector512<float>.Count; lane++) total += lanes[lane];
        }
        else if (Vector256.IsHardwareAccelerated && plane.Length >= Vector256<float>.Count)
        {
            var lanes = Vector256<float>.Zero;
            for (; i <= plane.Length - Vector256<float>.Count; i += Vector256<float>.Count)
                lanes += Vector256.Create(plane.Slice(i, Vector256<float>.Count));
            for (int lane = 0; lane < Vector256<float>.Count; lane++) total += lanes[lane];
        }
        for (; i < plane.Length; i++) total += plane[i];
        return total;
    }
}

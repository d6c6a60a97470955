using System.Runtime.Intrinsics;
using ParallelNet.Tensors.Cpu.Internal;
using ParallelNet.Tensors.Random;

namespace ParallelNet.Tensors.Cpu.Kernels;

/// <summary>Inverted dropout whose mask depends only on (stream, sample index, feature index), never on the worker.</summary>
public static class Dropout
{
    /// <summary>mask = (u &gt;= p) / (1 - p) with u at element firstSample * perSample + flat index; y = x * mask.</summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, Span<float> mask, float p, RandomStream stream, long firstSample, int samples)
    {
        const string op = "DropoutForward";
        KernelChecks.SameLength(op, x.Length, y.Length, "x", "y");
        KernelChecks.SameLength(op, x.Length, mask.Length, "x", "mask");
        KernelChecks.Probability(op, "p", p);
        if (firstSample < 0) throw new ArgumentOutOfRangeException(nameof(firstSample), $"{op}: firstSample must be non-negative, got {firstSample}.");
        if (x.Length == 0) return;
        KernelChecks.DivisibleBy(op, "x", x.Length, samples, "samples");
        long perSample = x.Length / samples;
        stream.FillUniform((ulong)(firstSample * perSample), mask);
        float keepScale = 1f / (1f - p);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var threshold = Vector256.Create(p);
            var keep = Vector256.Create(keepScale);
            for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var m = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(Vector256.Create(mask.Slice(i, Vector256<float>.Count)), threshold), keep, Vector256<float>.Zero);
                m.CopyTo(mask[i..]);
                (Vector256.Create(x.Slice(i, Vector256<float>.Count)) * m).CopyTo(y[i..]);
            }
        }
        for (; i < x.Length; i++)
        {
            float m = mask[i] >= p ? keepScale : 0f;
            mask[i] = m;
            y[i] = x[i] * m;
        }
    }
}

using ParallelNet.Tensors;
using ParallelNet.Tensors.Cpu;

namespace ParallelNet.NN.Tests;

internal static class TestSupport
{
    public static ICompute Cpu() => new CpuCompute(1);

    public static float[] Download(ICompute compute, Tensor t)
    {
        var host = new float[t.Length];
        compute.Download(t, host);
        return host;
    }

    /// <summary>Deterministic pseudo-random floats in [-scale, scale] (xorshift, so tests do not depend on System.Random's algorithm).</summary>
    public static float[] RandomFloats(int count, ulong seed, float scale = 1f)
    {
        var result = new float[count];
        ulong s = seed * 0x9E3779B97F4A7C15UL + 1;
        for (int i = 0; i < count; i++)
        {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            result[i] = ((s >> 40) / (float)(1 << 24) * 2f - 1f) * scale;
        }
        return result;
    }

    /// <summary>Asserts |actual - expected| &lt;= absolute + relative·|expected| element by element, naming the first failure.</summary>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double absolute, double relative, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: expected {expected.Length} values, got {actual.Length}.");
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            if (!(Math.Abs(a - e) <= absolute + relative * Math.Abs(e)))
                Assert.Fail($"{what}[{i}]: expected {e:R}, got {a:R} (|diff| {Math.Abs(a - e):G3} > {absolute} + {relative}·|expected|).");
        }
    }
}

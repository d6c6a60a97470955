using ParallelNet.Tensors.Random;

namespace ParallelNet.Tensors.Cpu.Kernels.Naive;

/// <summary>Reference twins of <see cref="Dropout"/> and RReLU training: one <see cref="RandomStream.Uniform"/> call per element at its global index.</summary>
public static class NaiveRandomMasks
{
    public static void DropoutForward(ReadOnlySpan<float> x, Span<float> y, Span<float> mask, float p, RandomStream stream, long firstSample, int samples)
    {
        int perSample = x.Length / samples;
        for (int n = 0; n < samples; n++)
        for (int i = 0; i < perSample; i++)
        {
            int flat = n * perSample + i;
            float u = stream.Uniform((ulong)((firstSample + n) * perSample + i));
            mask[flat] = u >= p ? 1f / (1f - p) : 0f;
            y[flat] = x[flat] * mask[flat];
        }
    }

    public static void RReluForwardTraining(ReadOnlySpan<float> x, Span<float> y, Span<float> slopes, float lower, float upper, RandomStream stream, long firstSample, int samples)
    {
        int perSample = x.Length / samples;
        for (int n = 0; n < samples; n++)
        for (int i = 0; i < perSample; i++)
        {
            int flat = n * perSample + i;
            float u = stream.Uniform((ulong)((firstSample + n) * perSample + i));
            slopes[flat] = x[flat] > 0 ? 1f : lower + (upper - lower) * u;
            y[flat] = x[flat] * slopes[flat];
        }
    }
}

using ParallelNet.Tensors.Cpu.Internal;

namespace ParallelNet.Tensors.Cpu.Kernels;

/// <summary>
/// Batch normalization over x [n, channels, inner] (inner = 1 for BatchNorm1d, H*W for BatchNorm2d).
/// Per-channel statistics are accumulated in double in ascending (n, i) order. Channels are
/// independent, so callers may split them across threads with firstChannel/channelCount.
/// </summary>
public static class BatchNorm
{
    public static void ForwardTraining(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y,
        Span<float> savedMean, Span<float> savedInvStd, Span<float> unbiasedVariance, int channels, int inner, float epsilon,
        int firstChannel = 0, int channelCount = -1)
    {
        const string op = "BatchNormForwardTraining";
        int samples = Validate(op, x.Length, y.Length, channels, inner);
        foreach (var (name, length) in new[] { ("gamma", gamma.Length), ("beta", beta.Length), ("savedMean", savedMean.Length), ("savedInvStd", savedInvStd.Length), ("unbiasedVariance", unbiasedVariance.Length) })
            KernelChecks.Length(op, name, length, channels);
        long count = (long)samples * inner;
        if (count < 2)
            throw new ArgumentException($"{op}: expected more than 1 value per channel when training, got [{samples}, {channels}, {inner}].");
        for (int c = firstChannel, end = KernelChecks.ChannelEnd(channels, firstChannel, channelCount); c < end; c++)
        {
            double sum = 0;
            for (int n = 0; n < samples; n++)
            {
                foreach (float v in x.Slice((n * channels + c) * inner, inner)) sum += v;
            }
            double mean = sum / count;
            double squares = 0;
            for (int n = 0; n < samples; n++)
            {
                foreach (float v in x.Slice((n * channels + c) * inner, inner))
                {
                    double d = v - mean;
                    squares += d * d;
                }
            }
            double variance = squares / count;
            float invStd = (float)(1.0 / Math.Sqrt(variance + epsilon));
            savedMean[c] = (float)mean;
            savedInvStd[c] = invStd;
            unbiasedVariance[c] = (float)(squares / (count - 1));
            float scale = gamma[c] * invStd;
            float shift = beta[c] - (float)mean * scale;
            for (int n = 0; n < samples; n++)
            {
                int offset = (n * channels + c) * inner;
                for (int i = offset; i < offset + inner; i++) y[i] = x[i] * scale + shift;
            }
        }
    }

    /// <summary>y = gamma * (x - runningMean) / sqrt(runningVariance + eps) + beta.</summary>
    public static void ForwardInference(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta,
        ReadOnlySpan<float> runningMean, ReadOnlySpan<float> runningVariance, Span<float> y, int channels, int inner, float epsilon,
        int firstChannel = 0, int channelCount = -1)
    {
        const string op = "BatchNormForwardInference";
        int samples = Validate(op, x.Length, y.Length, channels, inner);
        foreach (var (name, length) in new[] { ("gamma", gamma.Length), ("beta", beta.Length), ("runningMean", runningMean.Length), ("runningVariance", runningVariance.Length) })
            KernelChecks.Length(op, name, length, channels);
        for (int c = firstChannel, end = KernelChecks.ChannelEnd(channels, firstChannel, channelCount); c < end; c++)
        {
            float scale = gamma[c] / MathF.Sqrt(runningVariance[c] + epsilon);
            float shift = beta[c] - runningMean[c] * scale;
            for (int n = 0; n < samples; n++)
            {
                int offset = (n * channels + c) * inner;
                for (int i = offset; i < offset + inner; i++) y[i] = x[i] * scale + shift;
            }
        }
    }

    /// <summary>
    /// dx = gamma * invStd / M * (M dy - Σ dy - x̂ Σ dy x̂) with M = n * inner (overwritten);
    /// dgamma += Σ dy x̂ and dbeta += Σ dy (accumulated).
    /// </summary>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> gamma, ReadOnlySpan<float> savedMean,
        ReadOnlySpan<float> savedInvStd, Span<float> dx, Span<float> dgamma, Span<float> dbeta, int channels, int inner,
        int firstChannel = 0, int channelCount = -1)
    {
        const string op = "BatchNormBackward";
        int samples = Validate(op, x.Length, dy.Length, channels, inner);
        KernelChecks.SameLength(op, x.Length, dx.Length, "x", "dx");
        foreach (var (name, length) in new[] { ("gamma", gamma.Length), ("savedMean", savedMean.Length), ("savedInvStd", savedInvStd.Length), ("dgamma", dgamma.Length), ("dbeta", dbeta.Length) })
            KernelChecks.Length(op, name, length, channels);
        long count = (long)samples * inner;
        if (count == 0) return;
        for (int c = firstChannel, end = KernelChecks.ChannelEnd(channels, firstChannel, channelCount); c < end; c++)
        {
            float mean = savedMean[c], invStd = savedInvStd[c];
            double sumDy = 0, sumDyXhat = 0;
            for (int n = 0; n < samples; n++)
            {
                int offset = (n * channels + c) * inner;
                for (int i = offset; i < offset + inner; i++)
                {
                    sumDy += dy[i];
                    sumDyXhat += dy[i] * ((x[i] - mean) * invStd);
                }
            }
            dbeta[c] += (float)sumDy;
            dgamma[c] += (float)sumDyXhat;
            float meanDy = (float)(sumDy / count);
            float meanDyXhat = (float)(sumDyXhat / count);
            float scale = gamma[c] * invStd;
            for (int n = 0; n < samples; n++)
            {
                int offset = (n * channels + c) * inner;
                for (int i = offset; i < offset + inner; i++)
                {
                    float xhat = (x[i] - mean) * invStd;
                    dx[i] = scale * (dy[i] - meanDy - xhat * meanDyXhat);
                }
            }
        }
    }

    private static int Validate(string op, int xLength, int yLength, int channels, int inner)
    {
        KernelChecks.Positive(op, "channels", channels);
        KernelChecks.Positive(op, "inner size", inner);
        KernelChecks.SameLength(op, xLength, yLength, "x", "y");
        KernelChecks.DivisibleBy(op, "x", xLength, channels * inner, "channels * inner");
        return xLength / (channels * inner);
    }
}

namespace ParallelNet.Tensors.Cpu.Kernels.Naive;

/// <summary>Reference twin of <see cref="BatchNorm"/>: statistics by definition in double, backward by the full chain rule.</summary>
public static class NaiveBatchNorm
{
    public static void ForwardTraining(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, Span<float> y,
        Span<float> savedMean, Span<float> savedInvStd, Span<float> unbiasedVariance, int channels, int inner, float epsilon)
    {
        int samples = x.Length / (channels * inner);
        int count = samples * inner;
        for (int c = 0; c < channels; c++)
        {
            double mean = 0, variance = 0;
            foreach (int i in Indices(samples, channels, inner, c)) mean += x[i];
            mean /= count;
            foreach (int i in Indices(samples, channels, inner, c)) variance += (x[i] - mean) * (x[i] - mean);
            double invStd = 1 / Math.Sqrt(variance / count + epsilon);
            savedMean[c] = (float)mean;
            savedInvStd[c] = (float)invStd;
            unbiasedVariance[c] = (float)(variance / (count - 1));
            foreach (int i in Indices(samples, channels, inner, c)) y[i] = (float)(gamma[c] * (x[i] - mean) * invStd + beta[c]);
        }
    }

    /// <summary>
    /// With x̂ = (x - μ) s, s = 1/sqrt(σ² + ε): dx_i = γ s (dy_i - mean(dy) - x̂_i mean(dy x̂)), derived term by term
    /// from ∂x̂_j/∂x_i = s (δ_ij - 1/M - x̂_i x̂_j / M).
    /// </summary>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> gamma, ReadOnlySpan<float> savedMean,
        ReadOnlySpan<float> savedInvStd, Span<float> dx, Span<float> dgamma, Span<float> dbeta, int channels, int inner)
    {
        int samples = x.Length / (channels * inner);
        int count = samples * inner;
        for (int c = 0; c < channels; c++)
        {
            var indices = Indices(samples, channels, inner, c).ToArray();
            double s = savedInvStd[c];
            var xhat = new double[indices.Length];
            for (int a = 0; a < indices.Length; a++) xhat[a] = (x[indices[a]] - savedMean[c]) * s;
            double dyDotXhat = 0, dySum = 0;
            for (int a = 0; a < indices.Length; a++)
            {
                dyDotXhat += dy[indices[a]] * xhat[a];
                dySum += dy[indices[a]];
            }
            dgamma[c] += (float)dyDotXhat;
            dbeta[c] += (float)dySum;
            for (int a = 0; a < indices.Length; a++)
            {
                double sum = 0;
                for (int b = 0; b < indices.Length; b++)
                {
                    double jacobian = s * ((a == b ? 1 : 0) - 1.0 / count - xhat[a] * xhat[b] / count);
                    sum += dy[indices[b]] * jacobian;
                }
                dx[indices[a]] = (float)(gamma[c] * sum);
            }
        }
    }

    private static IEnumerable<int> Indices(int samples, int channels, int inner, int c)
    {
        for (int n = 0; n < samples; n++)
        for (int i = 0; i < inner; i++) yield return (n * channels + c) * inner + i;
    }
}

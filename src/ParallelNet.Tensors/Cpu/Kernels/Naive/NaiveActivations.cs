namespace ParallelNet.Tensors.Cpu.Kernels.Naive;

/// <summary>Reference twin of <see cref="Activations"/>: the textbook formulas, evaluated in double per element.</summary>
public static class NaiveActivations
{
    public static float Apply(ActivationKind kind, float alpha, float x) => kind switch
    {
        ActivationKind.Identity => x,
        ActivationKind.Sigmoid => (float)(1.0 / (1.0 + Math.Exp(-(double)x))),
        ActivationKind.Tanh => (float)Math.Tanh(x),
        ActivationKind.Relu => x > 0 ? x : 0f,
        ActivationKind.LeakyRelu => x > 0 ? x : alpha * x,
        ActivationKind.Step => x >= 0 ? 1f : 0f,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), $"Unknown activation {kind}."),
    };

    /// <summary>f'(x) computed from the input alone (not from the saved output as the fast kernel does).</summary>
    public static float Derivative(ActivationKind kind, float alpha, float x)
    {
        switch (kind)
        {
            case ActivationKind.Identity: return 1f;
            case ActivationKind.Sigmoid:
                double s = 1.0 / (1.0 + Math.Exp(-(double)x));
                return (float)(s * (1 - s));
            case ActivationKind.Tanh:
                double t = Math.Tanh(x);
                return (float)(1 - t * t);
            case ActivationKind.Relu: return x > 0 ? 1f : 0f;
            case ActivationKind.LeakyRelu: return x > 0 ? 1f : alpha;
            case ActivationKind.Step: return 0f;
            default: throw new ArgumentOutOfRangeException(nameof(kind), $"Unknown activation {kind}.");
        }
    }

    public static void PReluForward(ReadOnlySpan<float> x, ReadOnlySpan<float> slope, Span<float> y, int channels, int inner)
    {
        for (int i = 0; i < x.Length; i++)
        {
            int c = i / inner % channels;
            y[i] = x[i] > 0 ? x[i] : slope[c] * x[i];
        }
    }

    public static void PReluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> slope, ReadOnlySpan<float> dy, Span<float> dx, Span<float> dslope, int channels, int inner)
    {
        var sums = new double[channels];
        for (int i = 0; i < x.Length; i++)
        {
            int c = i / inner % channels;
            dx[i] = x[i] > 0 ? dy[i] : slope[c] * dy[i];
            if (x[i] <= 0) sums[c] += (double)dy[i] * x[i];
        }
        for (int c = 0; c < channels; c++) dslope[c] += (float)sums[c];
    }

    public static void MaxoutForward(ReadOnlySpan<float> x, Span<float> y, int pieces)
    {
        for (int u = 0; u < y.Length; u++)
        {
            float best = float.NegativeInfinity;
            for (int p = 0; p < pieces; p++) best = Math.Max(best, x[u * pieces + p]);
            y[u] = best;
        }
    }
}

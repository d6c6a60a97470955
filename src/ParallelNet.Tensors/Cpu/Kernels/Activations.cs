using System.Numerics.Tensors;
using ParallelNet.Tensors.Cpu.Internal;
using ParallelNet.Tensors.Random;

namespace ParallelNet.Tensors.Cpu.Kernels;

/// <summary>Pointwise activations and their derivatives, plus PReLU, RReLU and Maxout.</summary>
public static class Activations
{
    public static void Forward(ActivationKind kind, float alpha, ReadOnlySpan<float> x, Span<float> y)
    {
        KernelChecks.SameLength($"ActivationForward({kind})", x.Length, y.Length, "x", "y");
        switch (kind)
        {
            case ActivationKind.Identity: x.CopyTo(y); break;
            case ActivationKind.Sigmoid: TensorPrimitives.Sigmoid(x, y); break;
            case ActivationKind.Tanh: TensorPrimitives.Tanh(x, y); break;
            case ActivationKind.Relu: SimdMap.Apply(new PositivePartOp(), x, x, y); break;
            case ActivationKind.LeakyRelu: SimdMap.Apply(new LeakyReluForwardOp(alpha), x, x, y); break;
            case ActivationKind.Step: SimdMap.Apply(new StepOp(), x, x, y); break;
            default: throw new ArgumentOutOfRangeException(nameof(kind), $"ActivationForward: unknown activation {kind}.");
        }
    }

    /// <summary>dx = dy * f'(x); sigmoid and tanh use the saved output y, the others the input x.</summary>
    public static void Backward(ActivationKind kind, float alpha, ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        string op = $"ActivationBackward({kind})";
        KernelChecks.SameLength(op, dy.Length, dx.Length, "dy", "dx");
        switch (kind)
        {
            case ActivationKind.Identity: dy.CopyTo(dx); break;
            case ActivationKind.Sigmoid:
                KernelChecks.SameLength(op, y.Length, dy.Length, "y", "dy");
                SimdMap.Apply(new SigmoidBackwardOp(), y, dy, dx);
                break;
            case ActivationKind.Tanh:
                KernelChecks.SameLength(op, y.Length, dy.Length, "y", "dy");
                SimdMap.Apply(new TanhBackwardOp(), y, dy, dx);
                break;
            case ActivationKind.Relu:
                KernelChecks.SameLength(op, x.Length, dy.Length, "x", "dy");
                SimdMap.Apply(new PositivePartOp(), x, dy, dx);
                break;
            case ActivationKind.LeakyRelu:
                KernelChecks.SameLength(op, x.Length, dy.Length, "x", "dy");
                SimdMap.Apply(new LeakyReluBackwardOp(alpha), x, dy, dx);
                break;
            case ActivationKind.Step: dx.Clear(); break;
            default: throw new ArgumentOutOfRangeException(nameof(kind), $"ActivationBackward: unknown activation {kind}.");
        }
    }

    /// <summary>y = x &gt; 0 ? x : slope[c] * x over x [n, channels, inner].</summary>
    public static void PReluForward(ReadOnlySpan<float> x, ReadOnlySpan<float> slope, Span<float> y, int channels, int inner)
    {
        KernelChecks.SameLength("PReluForward", x.Length, y.Length, "x", "y");
        KernelChecks.Length("PReluForward", "slope", slope.Length, channels);
        KernelChecks.DivisibleBy("PReluForward", "x", x.Length, channels * inner, "channels * inner");
        for (int offset = 0, c = 0; offset < x.Length; offset += inner, c = c + 1 == channels ? 0 : c + 1)
        {
            float a = slope[c];
            for (int i = offset; i < offset + inner; i++) y[i] = x[i] > 0f ? x[i] : a * x[i];
        }
    }

    /// <summary>dx = dy * (x &gt; 0 ? 1 : slope[c]); dslope[c] += Σ dy * x over x &lt;= 0, in double, ascending (n, i).</summary>
    public static void PReluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> slope, ReadOnlySpan<float> dy, Span<float> dx, Span<float> dslope, int channels, int inner)
    {
        const string op = "PReluBackward";
        KernelChecks.SameLength(op, x.Length, dy.Length, "x", "dy");
        KernelChecks.SameLength(op, x.Length, dx.Length, "x", "dx");
        KernelChecks.Length(op, "slope", slope.Length, channels);
        KernelChecks.Length(op, "dslope", dslope.Length, channels);
        KernelChecks.DivisibleBy(op, "x", x.Length, channels * inner, "channels * inner");
        int samples = x.Length / (channels * inner);
        for (int c = 0; c < channels; c++)
        {
            float a = slope[c];
            double total = 0;
            for (int n = 0; n < samples; n++)
            {
                int offset = (n * channels + c) * inner;
                for (int i = offset; i < offset + inner; i++)
                {
                    if (x[i] > 0f) dx[i] = dy[i];
                    else
                    {
                        dx[i] = a * dy[i];
                        total += dy[i] * x[i];
                    }
                }
            }
            dslope[c] += (float)total;
        }
    }

    /// <summary>
    /// RReLU in training (PyTorch's rrelu_with_noise): for x &lt;= 0 the slope is lower + (upper - lower) * u with
    /// u the stream's uniform at element firstSample * perSample + flat index; positive elements get slope 1.
    /// </summary>
    public static void RReluForwardTraining(ReadOnlySpan<float> x, Span<float> y, Span<float> slopes, float lower, float upper,
        RandomStream stream, long firstSample, int samples)
    {
        const string op = "RReluForwardTraining";
        KernelChecks.SameLength(op, x.Length, y.Length, "x", "y");
        KernelChecks.SameLength(op, x.Length, slopes.Length, "x", "slopes");
        if (!(lower <= upper)) throw new ArgumentException($"{op}: lower ({lower}) must not exceed upper ({upper}).");
        if (firstSample < 0) throw new ArgumentOutOfRangeException(nameof(firstSample), $"{op}: firstSample must be non-negative, got {firstSample}.");
        if (x.Length == 0) return;
        KernelChecks.DivisibleBy(op, "x", x.Length, samples, "samples");
        long perSample = x.Length / samples;
        stream.FillUniform((ulong)(firstSample * perSample), slopes);
        float range = upper - lower;
        for (int i = 0; i < x.Length; i++)
        {
            if (x[i] > 0f)
            {
                slopes[i] = 1f;
                y[i] = x[i];
            }
            else
            {
                float a = lower + range * slopes[i];
                slopes[i] = a;
                y[i] = a * x[i];
            }
        }
    }

    public static void RReluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> slopes, ReadOnlySpan<float> dy, Span<float> dx)
    {
        const string op = "RReluBackward";
        KernelChecks.SameLength(op, x.Length, slopes.Length, "x", "slopes");
        KernelChecks.SameLength(op, x.Length, dy.Length, "x", "dy");
        KernelChecks.SameLength(op, x.Length, dx.Length, "x", "dx");
        for (int i = 0; i < x.Length; i++) dx[i] = x[i] > 0f ? dy[i] : dy[i] * slopes[i];
    }

    /// <summary>y[r, u] = max_p x[r, u * pieces + p].</summary>
    public static void MaxoutForward(ReadOnlySpan<float> x, Span<float> y, int pieces)
    {
        KernelChecks.Positive("MaxoutForward", "pieces", pieces);
        KernelChecks.Length("MaxoutForward", "x", x.Length, (long)y.Length * pieces);
        for (int u = 0; u < y.Length; u++)
        {
            var group = x.Slice(u * pieces, pieces);
            float best = group[0];
            for (int p = 1; p < pieces; p++)
            {
                if (group[p] > best) best = group[p];
            }
            y[u] = best;
        }
    }

    /// <summary>dx is zero except at each group's first arg-max, which receives dy.</summary>
    public static void MaxoutBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, int pieces)
    {
        KernelChecks.Positive("MaxoutBackward", "pieces", pieces);
        KernelChecks.Length("MaxoutBackward", "x", x.Length, (long)dy.Length * pieces);
        KernelChecks.SameLength("MaxoutBackward", x.Length, dx.Length, "x", "dx");
        dx.Clear();
        for (int u = 0; u < dy.Length; u++)
        {
            var group = x.Slice(u * pieces, pieces);
            int arg = 0;
            for (int p = 1; p < pieces; p++)
            {
                if (group[p] > group[arg]) arg = p;
            }
            dx[u * pieces + arg] = dy[u];
        }
    }
}

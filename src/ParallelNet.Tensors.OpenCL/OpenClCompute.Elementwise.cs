using ParallelNet.Tensors.OpenCL.Internal;
using ParallelNet.Tensors.Random;

namespace ParallelNet.Tensors.OpenCL;

public sealed partial class OpenClCompute
{
    // ---- elementwise ----
    public void Add(Tensor a, Tensor b, Tensor y) => Binary("Add", "add", a, b, y);
    public void Multiply(Tensor a, Tensor b, Tensor y) => Binary("Multiply", "multiply", a, b, y);

    public void Axpy(float alpha, Tensor x, Tensor y)
    {
        Checks.SameLength("Axpy", x.Length, y.Length, "x", "y");
        lock (_sync) _runtime.Launch("axpy", x.Length, alpha, Arg(x, "Axpy"), Arg(y, "Axpy"));
    }

    public void Scale(Tensor x, float alpha)
    {
        lock (_sync) _runtime.Launch("scale", x.Length, Arg(x, "Scale"), alpha);
    }

    public void Clamp(Tensor x, float min, float max)
    {
        if (!(min <= max)) throw new ArgumentException($"Clamp: min ({min}) must not exceed max ({max}).");
        lock (_sync) _runtime.Launch("clamp_values", x.Length, Arg(x, "Clamp"), min, max);
    }

    public double SumOfSquares(Tensor x)
    {
        lock (_sync)
        {
            if (x.Length == 0) return 0;
            int chunk = (x.Length + MaxPartials - 1) / MaxPartials;
            int partialCount = (x.Length + chunk - 1) / chunk;
            var partials = AccumulatorScratch(Scratch.Partials, partialCount);
            _runtime.Launch("sum_of_squares_partials", partialCount, Arg(x, "SumOfSquares"), x.Length, chunk, partials);
            return SumOnHost(partials, partialCount);
        }
    }

    public bool HasNonFinite(Tensor x)
    {
        lock (_sync)
        {
            var arg = Arg(x, "HasNonFinite");
            if (x.Length == 0) return false;
            var flag = ScratchBuffer(Scratch.Flag, sizeof(int));
            _runtime.Fill(flag, 0, 1, 0);
            _runtime.Launch("has_non_finite", x.Length, arg, flag);
            Span<int> result = stackalloc int[1];
            _runtime.Read(flag, 0, result);
            return result[0] != 0;
        }
    }

    // ---- broadcasting ----
    public void AddRowBias(Tensor x, Tensor bias)
    {
        Checks.DivisibleBy("AddRowBias", "x", x.Length, bias.Length, "bias length");
        lock (_sync) _runtime.Launch("add_row_bias", x.Length, Arg(x, "AddRowBias"), Arg(bias, "AddRowBias"), bias.Length);
    }

    public void AccumulateColumnSums(Tensor x, Tensor sum)
    {
        Checks.DivisibleBy("AccumulateColumnSums", "x", x.Length, sum.Length, "sum length");
        lock (_sync) _runtime.Launch("accumulate_column_sums", sum.Length, Arg(x, "AccumulateColumnSums"), Arg(sum, "AccumulateColumnSums"), x.Length / sum.Length, sum.Length);
    }

    public void AddChannelBias(Tensor x, Tensor bias, int channels)
    {
        if (x.Length == 0) return;
        int inner = InnerSize("AddChannelBias", x, channels);
        Checks.Length("AddChannelBias", "bias", bias.Length, channels);
        lock (_sync) _runtime.Launch("add_channel_bias", x.Length, Arg(x, "AddChannelBias"), Arg(bias, "AddChannelBias"), channels, inner);
    }

    public void AccumulateChannelSums(Tensor x, Tensor sum, int channels)
    {
        if (x.Length == 0) return;
        int inner = InnerSize("AccumulateChannelSums", x, channels);
        Checks.Length("AccumulateChannelSums", "sum", sum.Length, channels);
        lock (_sync) ChannelSums("AccumulateChannelSums", x, sum, channels, inner);
    }

    /// <summary>sum[c] += Σ_n Σ_i x[n, c, i]: a plane sum per (n, c), then the planes in ascending n.</summary>
    private void ChannelSums(string op, Tensor x, Tensor sum, int channels, int inner)
    {
        int planes = x.Length / inner;
        var partials = AccumulatorScratch(Scratch.Partials, planes);
        _runtime.Launch("plane_sums", planes, Arg(x, op), inner, partials);
        _runtime.Launch("accumulate_channel_totals", channels, partials, Arg(sum, op), planes / channels, channels);
    }

    // ---- activations ----
    public void ActivationForward(ActivationKind kind, float alpha, Tensor x, Tensor y)
    {
        string op = $"ActivationForward({kind})";
        if (!Enum.IsDefined(kind)) throw new ArgumentOutOfRangeException(nameof(kind), $"ActivationForward: unknown activation {kind}.");
        Checks.SameLength(op, x.Length, y.Length, "x", "y");
        lock (_sync) _runtime.Launch("activation_forward", x.Length, (int)kind, alpha, Arg(x, op), Arg(y, op));
    }

    public void ActivationBackward(ActivationKind kind, float alpha, Tensor x, Tensor y, Tensor dy, Tensor dx)
    {
        string op = $"ActivationBackward({kind})";
        Checks.SameLength(op, dy.Length, dx.Length, "dy", "dx");
        lock (_sync)
        {
            switch (kind)
            {
                case ActivationKind.Identity:
                    _runtime.Copy(Buffer(dy, op), dy.Offset, Buffer(dx, op), dx.Offset, dy.Length);
                    break;
                case ActivationKind.Sigmoid or ActivationKind.Tanh:
                    Checks.SameLength(op, y.Length, dy.Length, "y", "dy");
                    _runtime.Launch("activation_backward_from_output", dy.Length, (int)kind, Arg(y, op), Arg(dy, op), Arg(dx, op));
                    break;
                case ActivationKind.Relu or ActivationKind.LeakyRelu:
                    Checks.SameLength(op, x.Length, dy.Length, "x", "dy");
                    _runtime.Launch("activation_backward_from_input", dy.Length, (int)kind, alpha, Arg(x, op), Arg(dy, op), Arg(dx, op));
                    break;
                case ActivationKind.Step:
                    _runtime.Fill(Buffer(dx, op), dx.Offset, dx.Length, 0f);
                    break;
                default: throw new ArgumentOutOfRangeException(nameof(kind), $"ActivationBackward: unknown activation {kind}.");
            }
        }
    }

    public void PReluForward(Tensor x, Tensor slope, Tensor y, int channels)
    {
        const string op = "PReluForward";
        if (x.Length == 0) return;
        int inner = InnerSize(op, x, channels);
        Checks.SameLength(op, x.Length, y.Length, "x", "y");
        Checks.Length(op, "slope", slope.Length, channels);
        lock (_sync) _runtime.Launch("prelu_forward", x.Length, Arg(x, op), Arg(slope, op), Arg(y, op), channels, inner);
    }

    public void PReluBackward(Tensor x, Tensor slope, Tensor dy, Tensor dx, Tensor dslope, int channels)
    {
        const string op = "PReluBackward";
        if (x.Length == 0) return;
        int inner = InnerSize(op, x, channels);
        Checks.SameLength(op, x.Length, dy.Length, "x", "dy");
        Checks.SameLength(op, x.Length, dx.Length, "x", "dx");
        Checks.Length(op, "slope", slope.Length, channels);
        Checks.Length(op, "dslope", dslope.Length, channels);
        lock (_sync)
        {
            _runtime.Launch("prelu_backward_data", x.Length, Arg(x, op), Arg(slope, op), Arg(dy, op), Arg(dx, op), channels, inner);
            int planes = x.Length / inner;
            var partials = AccumulatorScratch(Scratch.Partials, planes);
            _runtime.Launch("prelu_slope_partials", planes, Arg(x, op), Arg(dy, op), inner, partials);
            _runtime.Launch("accumulate_channel_totals", channels, partials, Arg(dslope, op), planes / channels, channels);
        }
    }

    public void RReluForwardTraining(Tensor x, Tensor y, Tensor slopes, float lower, float upper, RandomStream stream, long firstSample)
    {
        const string op = "RReluForwardTraining";
        Checks.SameLength(op, x.Length, y.Length, "x", "y");
        Checks.SameLength(op, x.Length, slopes.Length, "x", "slopes");
        if (!(lower <= upper)) throw new ArgumentException($"{op}: lower ({lower}) must not exceed upper ({upper}).");
        Checks.NonNegativeSample(op, firstSample);
        if (x.Length == 0) return;
        long perSample = PerSample(op, x);
        lock (_sync)
            _runtime.Launch("rrelu_forward_training", x.Length, Arg(x, op), Arg(y, op), Arg(slopes, op), lower, upper - lower,
                stream.Seed, stream.StreamId, (ulong)(firstSample * perSample));
    }

    public void RReluBackward(Tensor x, Tensor slopes, Tensor dy, Tensor dx)
    {
        const string op = "RReluBackward";
        Checks.SameLength(op, x.Length, slopes.Length, "x", "slopes");
        Checks.SameLength(op, x.Length, dy.Length, "x", "dy");
        Checks.SameLength(op, x.Length, dx.Length, "x", "dx");
        lock (_sync) _runtime.Launch("rrelu_backward", x.Length, Arg(x, op), Arg(slopes, op), Arg(dy, op), Arg(dx, op));
    }

    public void MaxoutForward(Tensor x, Tensor y, int pieces)
    {
        Checks.Positive("MaxoutForward", "pieces", pieces);
        Checks.Length("MaxoutForward", "x", x.Length, (long)y.Length * pieces);
        lock (_sync) _runtime.Launch("maxout_forward", y.Length, Arg(x, "MaxoutForward"), Arg(y, "MaxoutForward"), pieces);
    }

    public void MaxoutBackward(Tensor x, Tensor dy, Tensor dx, int pieces)
    {
        Checks.Positive("MaxoutBackward", "pieces", pieces);
        Checks.Length("MaxoutBackward", "x", x.Length, (long)dy.Length * pieces);
        Checks.SameLength("MaxoutBackward", x.Length, dx.Length, "x", "dx");
        lock (_sync) _runtime.Launch("maxout_backward", dy.Length, Arg(x, "MaxoutBackward"), Arg(dy, "MaxoutBackward"), Arg(dx, "MaxoutBackward"), pieces);
    }

    // ---- dropout ----
    public void DropoutForward(Tensor x, Tensor y, Tensor mask, float p, RandomStream stream, long firstSample)
    {
        const string op = "DropoutForward";
        Checks.SameLength(op, x.Length, y.Length, "x", "y");
        Checks.SameLength(op, x.Length, mask.Length, "x", "mask");
        Checks.Probability(op, "p", p);
        Checks.NonNegativeSample(op, firstSample);
        if (x.Length == 0) return;
        long perSample = PerSample(op, x);
        float keepScale = 1f / (1f - p);
        lock (_sync)
            _runtime.Launch("dropout_forward", x.Length, Arg(x, op), Arg(y, op), Arg(mask, op), p, keepScale,
                stream.Seed, stream.StreamId, (ulong)(firstSample * perSample));
    }

    private void Binary(string op, string kernel, Tensor a, Tensor b, Tensor y)
    {
        Checks.SameLength(op, a.Length, b.Length, "a", "b");
        Checks.SameLength(op, a.Length, y.Length, "a", "y");
        lock (_sync) _runtime.Launch(kernel, a.Length, Arg(a, op), Arg(b, op), Arg(y, op));
    }

    /// <summary>Elements per sample of x [n, ...]; random streams are indexed (firstSample + n) * perSample + i.</summary>
    private static long PerSample(string op, Tensor x)
    {
        int samples = Samples(x);
        Checks.DivisibleBy(op, "x", x.Length, samples, "samples");
        return x.Length / samples;
    }
}

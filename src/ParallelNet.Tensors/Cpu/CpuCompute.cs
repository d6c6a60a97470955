using System.Numerics.Tensors;
using System.Runtime.ExceptionServices;
using ParallelNet.Tensors.Cpu.Gemm;
using ParallelNet.Tensors.Cpu.Internal;
using ParallelNet.Tensors.Cpu.Kernels;
using ParallelNet.Tensors.Random;

namespace ParallelNet.Tensors.Cpu;

/// <summary>
/// The CPU backend: host tensors, kernels from <see cref="Kernels"/>, GEMM from <see cref="CpuGemm"/>.
/// Work is split across threads only over independent outputs (samples, planes, channels, element
/// blocks, GEMM tiles) and every reduction over samples runs in ascending order on one thread, so
/// every result is bitwise the same for any <see cref="Threads"/>. One instance may be used from
/// several threads at once: scratch buffers come from a per-instance pool.
/// </summary>
public sealed partial class CpuCompute : ICompute
{
    private readonly WorkspacePool _workspaces = new();
    private readonly ParallelOptions _parallel;

    /// <param name="threads">Worker threads for kernels; 0 means all cores.</param>
    public CpuCompute(int threads = 0)
    {
        if (threads < 0) throw new ArgumentOutOfRangeException(nameof(threads), $"CpuCompute: threads must be 0 (all cores) or positive, got {threads}.");
        Threads = threads == 0 ? Environment.ProcessorCount : threads;
        _parallel = new ParallelOptions { MaxDegreeOfParallelism = Threads };
    }

    public int Threads { get; }
    public string Name => $"cpu({Threads} threads)";

    // ---- memory ----
    public Tensor Allocate(Shape shape) => new(new HostStorage(new float[shape.Size]), 0, shape);

    public void Upload(ReadOnlySpan<float> source, Tensor destination)
    {
        KernelChecks.SameLength("Upload", source.Length, destination.Length, "source", "destination");
        source.CopyTo(destination.Span);
    }

    public void Download(Tensor source, Span<float> destination)
    {
        KernelChecks.SameLength("Download", source.Length, destination.Length, "source", "destination");
        source.Span.CopyTo(destination);
    }

    public void Fill(Tensor x, float value) => x.Span.Fill(value);

    public void Copy(Tensor source, Tensor destination)
    {
        KernelChecks.SameLength("Copy", source.Length, destination.Length, "source", "destination");
        source.Span.CopyTo(destination.Span);
    }

    // ---- linear algebra ----
    public void Gemm(bool transposeA, bool transposeB, int m, int n, int k, float alpha, Tensor a, Tensor b, float beta, Tensor c)
        => CpuGemm.Multiply(transposeA, transposeB, m, n, k, alpha, a.Span, b.Span, beta, c.Span, Threads);

    public void GemmRowBlocks(ReadOnlySpan<int> blockRows, bool transposeB, int n, int k, float alpha, Tensor a, Tensor b, float beta, Tensor c)
        => CpuGemm.MultiplyRowBlocks(blockRows, transposeB, n, k, alpha, a.Span, b.Span, beta, c.Span, Threads);

    public bool FusesBlockTreeProducts => true;

    public void GemmTransposedBlockTree(ReadOnlySpan<int> blockRows, int m, int n, Tensor a, Tensor b, Tensor c)
        => CpuGemm.MultiplyTransposedBlockTree(blockRows, m, n, a.Span, b.Span, c.Span, Threads);

    // ---- elementwise ----
    public void Add(Tensor a, Tensor b, Tensor y) => Elementwise.Add(a.Span, b.Span, y.Span);

    /// <remarks>
    /// All levels of the tree run on one chunk before the next, so each buffer streams through memory once instead
    /// of once per level; the adds and their order per element are those of the level-by-level sum.
    /// </remarks>
    public void AddTree(IReadOnlyList<Tensor> buffers, int first, int count)
    {
        ArgumentNullException.ThrowIfNull(buffers);
        if (count <= 0 || (count & (count - 1)) != 0 || first < 0 || first + count > buffers.Count)
            throw new ArgumentException($"AddTree: a power-of-two count of buffers within the list is needed, got first={first} count={count} of {buffers.Count}.");
        int length = buffers[first].Length;
        for (int i = first; i < first + count; i++) Host(buffers[i]);
        for (int i = first + 1; i < first + count; i++)
            KernelChecks.SameLength("AddTree", length, buffers[i].Length, "buffers[first]", $"buffers[{i}]");
        ForEachBlock(length, (start, blockLength) =>
        {
            for (int offset = start; offset < start + blockLength; offset += TreeChunk)
            {
                int chunk = Math.Min(TreeChunk, start + blockLength - offset);
                for (int width = 1; width < count; width *= 2)
                {
                    for (int left = first; left < first + count; left += 2 * width)
                    {
                        var sum = buffers[left].Span.Slice(offset, chunk);
                        TensorPrimitives.Add(sum, buffers[left + width].Span.Slice(offset, chunk), sum);
                    }
                }
            }
        });
    }

    // 16 KiB of each buffer: a chunk of every shard stays in L1/L2 across the levels.
    private const int TreeChunk = 4096;
    public void Axpy(float alpha, Tensor x, Tensor y) => Elementwise.Axpy(alpha, x.Span, y.Span);
    public void Scale(Tensor x, float alpha) => Elementwise.Scale(x.Span, alpha);
    public void Multiply(Tensor a, Tensor b, Tensor y) => Elementwise.Multiply(a.Span, b.Span, y.Span);
    public void Clamp(Tensor x, float min, float max) => Elementwise.Clamp(x.Span, min, max);
    public double SumOfSquares(Tensor x) => Elementwise.SumOfSquares(x.Span);
    public bool HasNonFinite(Tensor x) => Elementwise.HasNonFinite(x.Span);

    // ---- broadcasting ----
    public void AddRowBias(Tensor x, Tensor bias) => Elementwise.AddRowBias(x.Span, bias.Span);
    public void AccumulateColumnSums(Tensor x, Tensor sum) => Elementwise.AccumulateColumnSums(x.Span, sum.Span);
    public void AddChannelBias(Tensor x, Tensor bias, int channels)
    {
        if (x.Length == 0) return;
        Elementwise.AddChannelBias(x.Span, bias.Span, channels, InnerSize("AddChannelBias", x, channels));
    }

    public void AccumulateChannelSums(Tensor x, Tensor sum, int channels)
    {
        if (x.Length == 0) return;
        int inner = InnerSize("AccumulateChannelSums", x, channels);
        var xs = Host(x); var sums = Host(sum);
        ForEachRange(channels, (first, count) => Elementwise.AccumulateChannelSums(xs, sums, channels, inner, first, count));
    }

    // ---- activations ----
    // Pointwise, so large tensors are cut into blocks for the threads without changing any value.
    public void ActivationForward(ActivationKind kind, float alpha, Tensor x, Tensor y)
    {
        KernelChecks.SameLength($"ActivationForward({kind})", x.Length, y.Length, "x", "y");
        var (xs, ys) = (Host(x), Host(y));
        ForEachBlock(x.Length, (start, length) => Activations.Forward(kind, alpha, xs.AsSpan(start, length), ys.AsSpan(start, length)));
    }

    public void ActivationBackward(ActivationKind kind, float alpha, Tensor x, Tensor y, Tensor dy, Tensor dx)
    {
        string op = $"ActivationBackward({kind})";
        KernelChecks.SameLength(op, dy.Length, dx.Length, "dy", "dx");
        KernelChecks.SameLength(op, x.Length, dx.Length, "x", "dx");
        KernelChecks.SameLength(op, y.Length, dx.Length, "y", "dx");
        var (xs, ys, dys, dxs) = (Host(x), Host(y), Host(dy), Host(dx));
        ForEachBlock(dx.Length, (start, length) =>
            Activations.Backward(kind, alpha, xs.AsSpan(start, length), ys.AsSpan(start, length), dys.AsSpan(start, length), dxs.AsSpan(start, length)));
    }

    public void PReluForward(Tensor x, Tensor slope, Tensor y, int channels)
    {
        if (x.Length == 0) return;
        Activations.PReluForward(x.Span, slope.Span, y.Span, channels, InnerSize("PReluForward", x, channels));
    }

    public void PReluBackward(Tensor x, Tensor slope, Tensor dy, Tensor dx, Tensor dslope, int channels)
    {
        if (x.Length == 0) return;
        Activations.PReluBackward(x.Span, slope.Span, dy.Span, dx.Span, dslope.Span, channels, InnerSize("PReluBackward", x, channels));
    }

    public void RReluForwardTraining(Tensor x, Tensor y, Tensor slopes, float lower, float upper, RandomStream stream, long firstSample)
        => Activations.RReluForwardTraining(x.Span, y.Span, slopes.Span, lower, upper, stream, firstSample, Samples(x));

    public void RReluBackward(Tensor x, Tensor slopes, Tensor dy, Tensor dx) => Activations.RReluBackward(x.Span, slopes.Span, dy.Span, dx.Span);
    public void MaxoutForward(Tensor x, Tensor y, int pieces) => Activations.MaxoutForward(x.Span, y.Span, pieces);
    public void MaxoutBackward(Tensor x, Tensor dy, Tensor dx, int pieces) => Activations.MaxoutBackward(x.Span, dy.Span, dx.Span, pieces);

    // ---- softmax family ----
    public void Softmax(Tensor x, Tensor y) => Kernels.Softmax.Forward(x.Span, y.Span, Columns(x));
    public void LogSoftmax(Tensor x, Tensor y) => Kernels.Softmax.LogForward(x.Span, y.Span, Columns(x));
    public void SoftmaxBackward(Tensor y, Tensor dy, Tensor dx) => Kernels.Softmax.Backward(y.Span, dy.Span, dx.Span, Columns(y));

    // ---- losses ----
    public double SoftmaxCrossEntropy(Tensor logits, Tensor labels, Tensor dlogits, float gradScale)
        => Losses.SoftmaxCrossEntropy(logits.Span, labels.Span, dlogits.Span, gradScale);
    public double BinaryCrossEntropyWithLogits(Tensor logits, Tensor targets, Tensor dlogits, float gradScale)
        => Losses.BinaryCrossEntropyWithLogits(logits.Span, targets.Span, dlogits.Span, gradScale);
    public double HalfSquaredError(Tensor predictions, Tensor targets, Tensor dpredictions, float gradScale)
        => Losses.HalfSquaredError(predictions.Span, targets.Span, dpredictions.Span, gradScale);
    public double MulticlassHinge(Tensor scores, Tensor labels, Tensor dscores, float gradScale)
        => Losses.MulticlassHinge(scores.Span, labels.Span, dscores.Span, gradScale);
    public int CountCorrect(Tensor scores, Tensor labels) => Losses.CountCorrect(scores.Span, labels.Span);

    // ---- convolution and pooling ----
    public void Conv2dForward(Tensor x, Tensor weight, Tensor? bias, Tensor y, ConvGeometry g, int outChannels)
    {
        int samples = Convolution.Validate("Conv2dForward", g, outChannels, x.Length, weight.Length, y.Length, bias?.Length ?? -1);
        var xs = Host(x); var ws = Host(weight); var ys = Host(y);
        var bs = bias is null ? HostWindow.Empty : Host(bias);
        ForEachSampleRange(samples, Convolution.ColumnsLength(g), (first, count, columns, gemmThreads) =>
            Convolution.ForwardSamples(xs, ws, bs, ys, g, outChannels, first, count, columns, gemmThreads));
    }

    public void Conv2dBackwardData(Tensor dy, Tensor weight, Tensor dx, ConvGeometry g, int outChannels)
    {
        int samples = Convolution.Validate("Conv2dBackwardData", g, outChannels, dx.Length, weight.Length, dy.Length, -1);
        var dys = Host(dy); var ws = Host(weight); var dxs = Host(dx);
        ForEachSampleRange(samples, Convolution.ColumnsLength(g), (first, count, columns, gemmThreads) =>
            Convolution.BackwardDataSamples(dys, ws, dxs, g, outChannels, first, count, columns, gemmThreads));
    }

    /// <remarks>Threads take whole sample groups (<see cref="Convolution.FilterGroupSize"/>), then whole output channels of the group sum.</remarks>
    public void Conv2dBackwardFilter(Tensor x, Tensor dy, Tensor dweight, Tensor? dbias, ConvGeometry g, int outChannels)
    {
        int samples = Convolution.Validate("Conv2dBackwardFilter", g, outChannels, x.Length, dweight.Length, dy.Length, dbias?.Length ?? -1);
        var (xs, dys, dws) = (Host(x), Host(dy), Host(dweight));
        if (samples > 0)
        {
            int groups = Convolution.FilterGroups(samples);
            int partialLength = Convolution.FilterPartialLength(g, outChannels);
            var partials = _workspaces.Rent(groups * partialLength);
            try
            {
                ForEachSampleRange(groups, Convolution.ColumnsLength(g), (first, count, columns, gemmThreads) =>
                {
                    for (int group = first; group < first + count; group++)
                        Convolution.BackwardFilterGroup(xs, dys, partials.AsSpan(group * partialLength, partialLength), g, outChannels, group, columns, gemmThreads);
                });
                ForEachRange(outChannels, (first, count) => Convolution.AddFilterPartials(partials, groups, dws, g, outChannels, first, count));
            }
            finally
            {
                _workspaces.Return(partials);
            }
        }
        if (dbias is null) return;
        var (dbs, plane) = (Host(dbias), g.OutHeight * g.OutWidth);
        ForEachRange(outChannels, (first, count) => Elementwise.AccumulateChannelSums(dys, dbs, outChannels, plane, first, count));
    }

    public void MaxPool2dForward(Tensor x, Tensor y, ConvGeometry g)
    {
        int planes = Pooling.Validate("MaxPool2dForward", g, x.Length, y.Length);
        var xs = Host(x); var ys = Host(y);
        ForEachRange(planes, (first, count) => Pooling.MaxForward(xs, ys, g, first, count));
    }

    public void MaxPool2dBackward(Tensor x, Tensor dy, Tensor dx, ConvGeometry g)
    {
        int planes = Pooling.Validate("MaxPool2dBackward", g, x.Length, dy.Length);
        KernelChecks.SameLength("MaxPool2dBackward", x.Length, dx.Length, "x", "dx");
        var xs = Host(x); var dys = Host(dy); var dxs = Host(dx);
        ForEachRange(planes, (first, count) => Pooling.MaxBackward(xs, dys, dxs, g, first, count));
    }

    public void AvgPool2dForward(Tensor x, Tensor y, ConvGeometry g)
    {
        int planes = Pooling.Validate("AvgPool2dForward", g, x.Length, y.Length);
        var xs = Host(x); var ys = Host(y);
        ForEachRange(planes, (first, count) => Pooling.AvgForward(xs, ys, g, first, count));
    }

    public void AvgPool2dBackward(Tensor dy, Tensor dx, ConvGeometry g)
    {
        int planes = Pooling.Validate("AvgPool2dBackward", g, dx.Length, dy.Length);
        var dys = Host(dy); var dxs = Host(dx);
        ForEachRange(planes, (first, count) => Pooling.AvgBackward(dys, dxs, g, first, count));
    }

    // ---- normalization and regularization ----
    // Channels are independent, so they are split across threads; each channel's sums keep their fixed order.
    public void BatchNormForwardTraining(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor savedMean, Tensor savedInvStd, Tensor unbiasedVariance, int channels, float epsilon)
    {
        int inner = InnerSize("BatchNormForwardTraining", x, channels);
        var (xs, gs, bs, ys) = (Host(x), Host(gamma), Host(beta), Host(y));
        var (means, invStds, variances) = (Host(savedMean), Host(savedInvStd), Host(unbiasedVariance));
        ForEachRange(channels, (first, count) =>
            BatchNorm.ForwardTraining(xs, gs, bs, ys, means, invStds, variances, channels, inner, epsilon, first, count));
    }

    public void BatchNormForwardInference(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVariance, Tensor y, int channels, float epsilon)
    {
        if (x.Length == 0) return;
        int inner = InnerSize("BatchNormForwardInference", x, channels);
        var (xs, gs, bs, ys, means, variances) = (Host(x), Host(gamma), Host(beta), Host(y), Host(runningMean), Host(runningVariance));
        ForEachRange(channels, (first, count) =>
            BatchNorm.ForwardInference(xs, gs, bs, means, variances, ys, channels, inner, epsilon, first, count));
    }

    public void BatchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor savedMean, Tensor savedInvStd, Tensor dx, Tensor dgamma, Tensor dbeta, int channels)
    {
        if (x.Length == 0) return;
        int inner = InnerSize("BatchNormBackward", x, channels);
        var (xs, dys, gs, means, invStds) = (Host(x), Host(dy), Host(gamma), Host(savedMean), Host(savedInvStd));
        var (dxs, dgs, dbs) = (Host(dx), Host(dgamma), Host(dbeta));
        ForEachRange(channels, (first, count) =>
            BatchNorm.Backward(xs, dys, gs, means, invStds, dxs, dgs, dbs, channels, inner, first, count));
    }

    /// <remarks>Masks are a function of the global sample index, so sample ranges can go to different threads.</remarks>
    public void DropoutForward(Tensor x, Tensor y, Tensor mask, float p, RandomStream stream, long firstSample)
    {
        int samples = Samples(x);
        if (samples == 0 || x.Length % samples != 0 || y.Length != x.Length || mask.Length != x.Length)
        {
            // Empty or mismatched tensors go to the kernel whole: it returns at once or throws its message.
            Dropout.Forward(x.Span, y.Span, mask.Span, p, stream, firstSample, Math.Max(samples, 1));
            return;
        }
        int perSample = x.Length / samples;
        var (xs, ys, masks) = (Host(x), Host(y), Host(mask));
        ForEachRange(samples, (first, count) => Dropout.Forward(xs.AsSpan(first * perSample, count * perSample), ys.AsSpan(first * perSample, count * perSample),
            masks.AsSpan(first * perSample, count * perSample), p, stream, firstSample + first, count));
    }

    // ---- optimizers ----
    // Every lane of the optimizer kernels gets the scalar tail's bits, so splitting a slot across threads changes nothing.
    public void SgdStep(Tensor weights, Tensor gradients, Tensor velocity, float learningRate, float momentum, float weightDecay, bool nesterov, bool firstStep)
    {
        if (momentum == 0f || weights.Length != velocity.Length || weights.Length != gradients.Length)
        {
            // Without momentum the velocity is not read; mismatched lengths get the kernel's own message.
            Optimizers.SgdStep(weights.Span, gradients.Span, velocity.Span, learningRate, momentum, weightDecay, nesterov, firstStep);
            return;
        }
        var (w, g, v) = (Host(weights), Host(gradients), Host(velocity));
        ForEachBlock(w.Count, (start, length) => Optimizers.SgdStep(w.AsSpan(start, length), g.AsSpan(start, length), v.AsSpan(start, length),
            learningRate, momentum, weightDecay, nesterov, firstStep));
    }

    public void AdamStep(Tensor weights, Tensor gradients, Tensor firstMoment, Tensor secondMoment, float learningRate, float beta1, float beta2, float epsilon, float weightDecay, bool decoupled, long step)
    {
        if (weights.Length != gradients.Length || weights.Length != firstMoment.Length || weights.Length != secondMoment.Length)
        {
            Optimizers.AdamStep(weights.Span, gradients.Span, firstMoment.Span, secondMoment.Span, learningRate, beta1, beta2, epsilon, weightDecay, decoupled, step);
            return;
        }
        var (w, g, m, v) = (Host(weights), Host(gradients), Host(firstMoment), Host(secondMoment));
        ForEachBlock(w.Count, (start, length) => Optimizers.AdamStep(w.AsSpan(start, length), g.AsSpan(start, length), m.AsSpan(start, length), v.AsSpan(start, length),
            learningRate, beta1, beta2, epsilon, weightDecay, decoupled, step));
    }

    // ---- helpers ----
    private static HostWindow Host(Tensor t) => t.Storage switch
    {
        HostStorage h => new HostWindow(h.Data, t.Offset, t.Length),
        LentHostStorage lent => new HostWindow(lent, t.Offset, t.Length),
        _ => throw new ArgumentException($"CpuCompute: tensor of shape {t.Shape} lives on {t.Storage.GetType().Name}, not in host memory; allocate it with this backend."),
    };

    private static int Samples(Tensor x) => x.Shape.Rank == 0 ? 1 : x.Shape[0];

    private static int Columns(Tensor x) => x.Shape.Rank == 0 ? 1 : x.Shape[-1];

    /// <summary>x is [n, channels, inner...]: inner is everything after the channel axis.</summary>
    private static int InnerSize(string op, Tensor x, int channels)
    {
        KernelChecks.Positive(op, "channels", channels);
        int samples = Samples(x);
        if (samples == 0 || x.Length % ((long)samples * channels) != 0)
            throw new ArgumentException($"{op}: tensor {x.Shape} is not [n, {channels}, ...] with n its leading dimension.");
        return x.Length / (samples * channels);
    }

    private delegate void RangeBody(int first, int count);
    private delegate void RangeBodyWithColumns(int first, int count, float[] columns, int gemmThreads);

    /// <summary>Runs body over contiguous chunks of [0, total); chunks touch disjoint outputs, so the split cannot change results.</summary>
    private void ForEachRange(int total, RangeBody body)
    {
        int chunks = Math.Min(Threads, total);
        if (chunks <= 1)
        {
            body(0, total);
            return;
        }
        try
        {
            Parallel.For(0, chunks, _parallel, chunk =>
            {
                int first = (int)((long)total * chunk / chunks);
                int end = (int)((long)total * (chunk + 1) / chunks);
                body(first, end - first);
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            // Callers see the kernel's own message (e.g. a shape error), as with one thread.
            ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
    }

    /// <summary>
    /// Samples split across threads, each chunk with its own column workspace. When there are fewer
    /// samples than threads (a single image) the GEMMs get the threads instead; CpuGemm's result does
    /// not depend on its thread count either.
    /// </summary>
    /// <summary>Below this many elements a pointwise op stays on the calling thread: waking helpers costs more.</summary>
    private const int ParallelElementThreshold = 1 << 16;

    /// <summary>Splits [0, length) into per-thread blocks for pointwise work (any split gives the same values).</summary>
    private void ForEachBlock(int length, RangeBody body)
    {
        if (length < ParallelElementThreshold) body(0, length);
        else ForEachRange(length, body);
    }

    private void ForEachSampleRange(int samples, int columnsLength, RangeBodyWithColumns body)
    {
        int gemmThreads = samples < Threads ? Threads : 1;
        ForEachRange(samples, (first, count) =>
        {
            var columns = _workspaces.Rent(columnsLength);
            try
            {
                body(first, count, columns, gemmThreads);
            }
            finally
            {
                _workspaces.Return(columns);
            }
        });
    }
}

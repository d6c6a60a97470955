using System.Numerics.Tensors;
using ParallelNet.Tensors.Cpu.Gemm;
using ParallelNet.Tensors.Cpu.Gemm.Internal;
using ParallelNet.Tensors.Cpu.Internal;

namespace ParallelNet.Tensors.Cpu.Kernels;

/// <summary>
/// 2-D convolution over NCHW by im2col + GEMM. One sample's input unfolds into a column matrix
/// [C*kh*kw, oh*ow] whose row order (c, ki, kj) matches the weight layout [outC, C, kh, kw], so the
/// forward pass is weight @ columns. The caller supplies the column workspace (<see cref="ColumnsLength"/>).
///
/// Per sample rather than one batched [C*kh*kw, n*oh*ow] matrix: on the cnn preset at batch 128 the
/// per-sample GEMMs (64x196x288) already run near the batched GEMM's speed (~155 vs ~165 GFLOPS on one
/// core), while batching would need a 29 MB column buffer for the second layer and a transpose of the
/// output back to NCHW; per sample the columns (225 KB) stay in L2 and samples parallelize trivially.
/// </summary>
public static class Convolution
{
    public static int ColumnsLength(ConvGeometry g) => g.Channels * g.KernelHeight * g.KernelWidth * g.OutHeight * g.OutWidth;

    /// <summary>Checks every operand length and returns the batch size.</summary>
    public static int Validate(string op, ConvGeometry g, int outChannels, int xLength, int weightLength, int yLength, int biasLength)
    {
        g.Validate();
        KernelChecks.Positive(op, "outChannels", outChannels);
        int inputSize = g.Channels * g.Height * g.Width;
        int outputSize = outChannels * g.OutHeight * g.OutWidth;
        if (xLength % inputSize != 0)
            throw new ArgumentException($"{op}: input has {xLength} elements, not a whole number of [{g.Channels}, {g.Height}, {g.Width}] samples.");
        int samples = xLength / inputSize;
        KernelChecks.Length(op, $"weight [{outChannels}, {g.Channels}, {g.KernelHeight}, {g.KernelWidth}]", weightLength, (long)outChannels * g.Channels * g.KernelHeight * g.KernelWidth);
        KernelChecks.Length(op, $"output [{samples}, {outChannels}, {g.OutHeight}, {g.OutWidth}]", yLength, (long)samples * outputSize);
        if (biasLength >= 0) KernelChecks.Length(op, "bias", biasLength, outChannels);
        return samples;
    }

    /// <summary>Unfolds one sample x [C, H, W] into columns [C*kh*kw, oh*ow]; padded positions become 0.</summary>
    public static void Im2Col(ReadOnlySpan<float> x, ConvGeometry g, Span<float> columns)
    {
        if (IsSameSizeStrideOne(g))
        {
            SameSizeIm2Col(x, g, columns);
            return;
        }
        if (UnpaddedColumns.Applies(g))
        {
            UnpaddedColumns.Im2Col(x, g, columns);
            return;
        }
        int oh = g.OutHeight, ow = g.OutWidth, plane = oh * ow;
        int row = 0;
        for (int c = 0; c < g.Channels; c++)
        {
            var image = x.Slice(c * g.Height * g.Width, g.Height * g.Width);
            for (int ki = 0; ki < g.KernelHeight; ki++)
            {
                for (int kj = 0; kj < g.KernelWidth; kj++, row++)
                {
                    var dest = columns.Slice(row * plane, plane);
                    for (int i = 0; i < oh; i++)
                    {
                        int h = i * g.StrideHeight - g.PadHeight + ki;
                        var destRow = dest.Slice(i * ow, ow);
                        if ((uint)h >= (uint)g.Height)
                        {
                            destRow.Clear();
                            continue;
                        }
                        var source = image.Slice(h * g.Width, g.Width);
                        int w0 = kj - g.PadWidth;
                        if (g.StrideWidth == 1)
                        {
                            // Contiguous run: zeros left of the image, a copied span, zeros right of it.
                            int first = Math.Clamp(-w0, 0, ow);
                            int last = Math.Clamp(g.Width - w0, first, ow);
                            destRow[..first].Clear();
                            if (last > first) source.Slice(w0 + first, last - first).CopyTo(destRow[first..last]);
                            destRow[last..].Clear();
                        }
                        else
                        {
                            for (int j = 0; j < ow; j++)
                            {
                                int w = w0 + j * g.StrideWidth;
                                destRow[j] = (uint)w < (uint)g.Width ? source[w] : 0f;
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>Folds columns back into dx [C, H, W] (overwritten), summing overlapping windows in a fixed order.</summary>
    /// <remarks>May zero entries of <paramref name="columns"/> that fall in the padding (they are scratch).</remarks>
    public static void Col2Im(Span<float> columns, ConvGeometry g, Span<float> dx)
    {
        dx.Clear();
        if (IsSameSizeStrideOne(g))
        {
            SameSizeCol2Im(columns, g, dx);
            return;
        }
        if (UnpaddedColumns.Applies(g))
        {
            UnpaddedColumns.Col2ImAdd(columns, g, dx);
            return;
        }
        int oh = g.OutHeight, ow = g.OutWidth, plane = oh * ow;
        int row = 0;
        for (int c = 0; c < g.Channels; c++)
        {
            var image = dx.Slice(c * g.Height * g.Width, g.Height * g.Width);
            for (int ki = 0; ki < g.KernelHeight; ki++)
            {
                for (int kj = 0; kj < g.KernelWidth; kj++, row++)
                {
                    var source = columns.Slice(row * plane, plane);
                    for (int i = 0; i < oh; i++)
                    {
                        int h = i * g.StrideHeight - g.PadHeight + ki;
                        if ((uint)h >= (uint)g.Height) continue;
                        var dest = image.Slice(h * g.Width, g.Width);
                        var sourceRow = source.Slice(i * ow, ow);
                        int w0 = kj - g.PadWidth;
                        if (g.StrideWidth == 1)
                        {
                            // The same additions as the general loop, element for element, done as one vector add.
                            int first = Math.Clamp(-w0, 0, ow);
                            int last = Math.Clamp(g.Width - w0, first, ow);
                            if (last > first)
                            {
                                var target = dest.Slice(w0 + first, last - first);
                                TensorPrimitives.Add(target, sourceRow[first..last], target);
                            }
                            continue;
                        }
                        for (int j = 0; j < ow; j++)
                        {
                            int w = w0 + j * g.StrideWidth;
                            if ((uint)w < (uint)g.Width) dest[w] += sourceRow[j];
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Stride 1 with the output as wide as the input ("same" padding, the cnn presets): a column row is
    /// then the image shifted by one constant offset, so it is one block copy (or add), with the columns
    /// that would wrap into the neighbouring image row zeroed, instead of a short copy per output row.
    /// </summary>
    private static bool IsSameSizeStrideOne(ConvGeometry g) => g.StrideHeight == 1 && g.StrideWidth == 1 && g.OutWidth == g.Width && g.PadWidth < g.Width;

    /// <summary>For kernel position (ki, kj): the valid output rows [rowStart, rowEnd), the wrapped columns on each side, and the shift into the image.</summary>
    private static (int RowStart, int RowEnd, int ZeroLeft, int ZeroRight, int Shift) SameSizeWindow(ConvGeometry g, int ki, int kj)
    {
        int dh = ki - g.PadHeight, dw = kj - g.PadWidth;
        int rowStart = Math.Clamp(-dh, 0, g.OutHeight), rowEnd = Math.Clamp(g.Height - dh, rowStart, g.OutHeight);
        return (rowStart, rowEnd, Math.Min(Math.Max(-dw, 0), g.Width), Math.Min(Math.Max(dw, 0), g.Width), dh * g.Width + dw);
    }

    private static void SameSizeIm2Col(ReadOnlySpan<float> x, ConvGeometry g, Span<float> columns)
    {
        int width = g.Width, plane = g.OutHeight * width, imageSize = g.Height * width;
        int row = 0;
        for (int c = 0; c < g.Channels; c++)
        {
            var image = x.Slice(c * imageSize, imageSize);
            for (int ki = 0; ki < g.KernelHeight; ki++)
            {
                for (int kj = 0; kj < g.KernelWidth; kj++, row++)
                {
                    var dest = columns.Slice(row * plane, plane);
                    var (rowStart, rowEnd, zeroLeft, zeroRight, shift) = SameSizeWindow(g, ki, kj);
                    // Usually both ranges are empty; skipping the calls matters at 288 rows per sample.
                    if (rowStart > 0) dest[..(rowStart * width)].Clear();
                    if (rowEnd < g.OutHeight) dest[(rowEnd * width)..].Clear();
                    if (rowEnd == rowStart) continue;
                    // Copy [first, last) of the valid rows; the few entries outside the image at either end stay for the loop below.
                    int first = rowStart * width + zeroLeft, last = rowEnd * width - zeroRight;
                    if (last > first) image.Slice(first + shift, last - first).CopyTo(dest[first..last]);
                    for (int i = rowStart; i < rowEnd; i++)
                    {
                        for (int j = 0; j < zeroLeft; j++) dest[i * width + j] = 0f;
                        for (int j = width - zeroRight; j < width; j++) dest[i * width + j] = 0f;
                    }
                }
            }
        }
    }

    private static void SameSizeCol2Im(Span<float> columns, ConvGeometry g, Span<float> dx)
    {
        int width = g.Width, plane = g.OutHeight * width, imageSize = g.Height * width;
        int row = 0;
        for (int c = 0; c < g.Channels; c++)
        {
            var image = dx.Slice(c * imageSize, imageSize);
            for (int ki = 0; ki < g.KernelHeight; ki++)
            {
                for (int kj = 0; kj < g.KernelWidth; kj++, row++)
                {
                    var source = columns.Slice(row * plane, plane);
                    var (rowStart, rowEnd, zeroLeft, zeroRight, shift) = SameSizeWindow(g, ki, kj);
                    if (rowEnd == rowStart) continue;
                    // Entries that read padding must add nothing; zero them so one block add covers every row.
                    for (int i = rowStart; i < rowEnd; i++)
                    {
                        for (int j = 0; j < zeroLeft; j++) source[i * width + j] = 0f;
                        for (int j = width - zeroRight; j < width; j++) source[i * width + j] = 0f;
                    }
                    int first = rowStart * width + zeroLeft, last = rowEnd * width - zeroRight;
                    if (last <= first) continue;
                    var target = image.Slice(first + shift, last - first);
                    TensorPrimitives.Add(target, source[first..last], target);
                }
            }
        }
    }

    /// <summary>y[s] = weight @ im2col(x[s]) + bias for samples [first, first + count).</summary>
    public static void ForwardSamples(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y,
        ConvGeometry g, int outChannels, int first, int count, Span<float> columns, int gemmThreads)
    {
        int inputSize = g.Channels * g.Height * g.Width;
        int plane = g.OutHeight * g.OutWidth;
        int patch = g.Channels * g.KernelHeight * g.KernelWidth;
        if (DirectConvolution3x3.Applies(g))
        {
            for (int s = first; s < first + count; s++)
                DirectConvolution3x3.ForwardSample(x.Slice(s * inputSize, inputSize), weight, bias, y.Slice(s * outChannels * plane, outChannels * plane), g, outChannels);
            return;
        }
        var cols = columns[..(patch * plane)];
        for (int s = first; s < first + count; s++)
        {
            Im2Col(x.Slice(s * inputSize, inputSize), g, cols);
            var output = y.Slice(s * outChannels * plane, outChannels * plane);
            CpuGemm.Multiply(false, false, outChannels, plane, patch, 1f, weight, cols, 0f, output, gemmThreads);
            if (!bias.IsEmpty) Elementwise.AddChannelBias(output, bias, outChannels, plane);
        }
    }

    /// <summary>dx[s] = col2im(weightᵀ @ dy[s]) for samples [first, first + count).</summary>
    public static void BackwardDataSamples(ReadOnlySpan<float> dy, ReadOnlySpan<float> weight, Span<float> dx,
        ConvGeometry g, int outChannels, int first, int count, Span<float> columns, int gemmThreads)
    {
        int inputSize = g.Channels * g.Height * g.Width;
        int plane = g.OutHeight * g.OutWidth;
        int patch = g.Channels * g.KernelHeight * g.KernelWidth;
        var cols = columns[..(patch * plane)];
        for (int s = first; s < first + count; s++)
        {
            CpuGemm.Multiply(true, false, patch, plane, outChannels, 1f, weight, dy.Slice(s * outChannels * plane, outChannels * plane), 0f, cols, gemmThreads);
            Col2Im(cols, g, dx.Slice(s * inputSize, inputSize));
        }
    }

    /// <summary>
    /// Samples per filter-gradient group. The weight gradient of a batch is summed per fixed group of
    /// samples (ascending within the group), then the group sums are added in ascending group order. The
    /// groups depend on the sample count alone, so threads can take whole groups and the result is still
    /// bitwise the same for every thread count.
    /// </summary>
    public const int FilterGroupSize = 16;

    public static int FilterGroups(int samples) => (samples + FilterGroupSize - 1) / FilterGroupSize;

    /// <summary>Floats of one group's partial weight gradient (<see cref="BackwardFilterGroup"/>).</summary>
    public static int FilterPartialLength(ConvGeometry g, int outChannels) => g.Channels * g.KernelHeight * g.KernelWidth * outChannels;

    /// <summary>
    /// partial = Σ_s dy[s] @ im2col(x[s])ᵀ over the samples of group <paramref name="group"/> in ascending order
    /// (one GEMM per sample, whose k runs over that sample's output positions), overwriting partial. When the patch
    /// is narrower than the output channels (a first layer on one input channel) the sum is formed transposed,
    /// [patch, outC], so the GEMM's wide dimension is the wide one; <see cref="AddFilterPartials"/> undoes that.
    /// </summary>
    public static void BackwardFilterGroup(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> partial,
        ConvGeometry g, int outChannels, int group, Span<float> columns, int gemmThreads)
    {
        int inputSize = g.Channels * g.Height * g.Width;
        int plane = g.OutHeight * g.OutWidth;
        int patch = g.Channels * g.KernelHeight * g.KernelWidth;
        int samples = x.Length / inputSize;
        int first = group * FilterGroupSize, end = Math.Min(samples, first + FilterGroupSize);
        if (first >= end) throw new ArgumentOutOfRangeException(nameof(group), $"Conv2dBackwardFilter: group {group} is past the {samples} samples.");
        KernelChecks.AtLeast("Conv2dBackwardFilter", "partial", partial.Length, (long)patch * outChannels);
        var cols = columns[..(patch * plane)];
        var sum = partial[..(patch * outChannels)];
        bool transposed = UsesTransposedAccumulator(g, outChannels);
        for (int s = first; s < end; s++)
        {
            Im2Col(x.Slice(s * inputSize, inputSize), g, cols);
            var upstream = dy.Slice(s * outChannels * plane, outChannels * plane);
            float beta = s == first ? 0f : 1f;
            if (transposed) CpuGemm.Multiply(false, true, patch, outChannels, plane, 1f, cols, upstream, beta, sum, gemmThreads);
            else CpuGemm.Multiply(false, true, outChannels, patch, plane, 1f, upstream, cols, beta, sum, gemmThreads);
        }
    }

    /// <summary>dweight[o, p] += Σ_group partial[group] in ascending group order, for output channels [firstChannel, firstChannel + count).</summary>
    public static void AddFilterPartials(ReadOnlySpan<float> partials, int groups, Span<float> dweight, ConvGeometry g, int outChannels, int firstChannel, int count)
    {
        int patch = g.Channels * g.KernelHeight * g.KernelWidth;
        int partialLength = patch * outChannels;
        KernelChecks.AtLeast("Conv2dBackwardFilter", "partials", partials.Length, (long)groups * partialLength);
        bool transposed = UsesTransposedAccumulator(g, outChannels);
        for (int o = firstChannel; o < firstChannel + count; o++)
        {
            var row = dweight.Slice(o * patch, patch);
            for (int group = 0; group < groups; group++)
            {
                var partial = partials.Slice(group * partialLength, partialLength);
                if (!transposed)
                {
                    TensorPrimitives.Add(row, partial.Slice(o * patch, patch), row);
                    continue;
                }
                for (int p = 0; p < patch; p++) row[p] += partial[p * outChannels + o];
            }
        }
    }

    // A patch of at most 16 taps with a long plane takes GEMM's unpacked dot-product path as it is, which beats
    // the transposed layout (whose B operand, dy, must be transposed while packing).
    private static bool UsesTransposedAccumulator(ConvGeometry g, int outChannels)
    {
        int patch = g.Channels * g.KernelHeight * g.KernelWidth;
        return patch < outChannels && MicroKernel.For(false, true, outChannels, patch, g.OutHeight * g.OutWidth).Kind != MicroKernelKind.DotProduct;
    }
}

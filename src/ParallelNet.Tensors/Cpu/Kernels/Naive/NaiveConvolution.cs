namespace ParallelNet.Tensors.Cpu.Kernels.Naive;

/// <summary>
/// The reference twin of <see cref="Convolution"/>: the defining sums written out directly over
/// every index, accumulated in double. Slow on purpose; tests compare the fast kernels with it.
/// </summary>
public static class NaiveConvolution
{
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y, ConvGeometry g, int outChannels)
    {
        int samples = Convolution.Validate("NaiveConvolution.Forward", g, outChannels, x.Length, weight.Length, y.Length, bias.IsEmpty ? -1 : bias.Length);
        int oh = g.OutHeight, ow = g.OutWidth;
        for (int n = 0; n < samples; n++)
        for (int o = 0; o < outChannels; o++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        {
            double sum = bias.IsEmpty ? 0 : bias[o];
            for (int c = 0; c < g.Channels; c++)
            for (int ki = 0; ki < g.KernelHeight; ki++)
            for (int kj = 0; kj < g.KernelWidth; kj++)
            {
                int h = i * g.StrideHeight - g.PadHeight + ki, w = j * g.StrideWidth - g.PadWidth + kj;
                if (h < 0 || h >= g.Height || w < 0 || w >= g.Width) continue;
                sum += (double)x[((n * g.Channels + c) * g.Height + h) * g.Width + w] * weight[((o * g.Channels + c) * g.KernelHeight + ki) * g.KernelWidth + kj];
            }
            y[((n * outChannels + o) * oh + i) * ow + j] = (float)sum;
        }
    }

    /// <summary>dx (overwritten) = Σ over every output position that read x[n, c, h, w] of dy * weight.</summary>
    public static void BackwardData(ReadOnlySpan<float> dy, ReadOnlySpan<float> weight, Span<float> dx, ConvGeometry g, int outChannels)
    {
        int samples = Convolution.Validate("NaiveConvolution.BackwardData", g, outChannels, dx.Length, weight.Length, dy.Length, -1);
        int oh = g.OutHeight, ow = g.OutWidth;
        var sums = new double[dx.Length];
        for (int n = 0; n < samples; n++)
        for (int o = 0; o < outChannels; o++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        {
            double upstream = dy[((n * outChannels + o) * oh + i) * ow + j];
            for (int c = 0; c < g.Channels; c++)
            for (int ki = 0; ki < g.KernelHeight; ki++)
            for (int kj = 0; kj < g.KernelWidth; kj++)
            {
                int h = i * g.StrideHeight - g.PadHeight + ki, w = j * g.StrideWidth - g.PadWidth + kj;
                if (h < 0 || h >= g.Height || w < 0 || w >= g.Width) continue;
                sums[((n * g.Channels + c) * g.Height + h) * g.Width + w] += upstream * weight[((o * g.Channels + c) * g.KernelHeight + ki) * g.KernelWidth + kj];
            }
        }
        for (int i = 0; i < dx.Length; i++) dx[i] = (float)sums[i];
    }

    /// <summary>dweight += Σ_n Σ_(i,j) dy * x over the window; dbias += Σ dy (when not empty).</summary>
    public static void BackwardFilter(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dweight, Span<float> dbias, ConvGeometry g, int outChannels)
    {
        int samples = Convolution.Validate("NaiveConvolution.BackwardFilter", g, outChannels, x.Length, dweight.Length, dy.Length, dbias.IsEmpty ? -1 : dbias.Length);
        int oh = g.OutHeight, ow = g.OutWidth;
        for (int o = 0; o < outChannels; o++)
        {
            for (int c = 0; c < g.Channels; c++)
            for (int ki = 0; ki < g.KernelHeight; ki++)
            for (int kj = 0; kj < g.KernelWidth; kj++)
            {
                double sum = 0;
                for (int n = 0; n < samples; n++)
                for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    int h = i * g.StrideHeight - g.PadHeight + ki, w = j * g.StrideWidth - g.PadWidth + kj;
                    if (h < 0 || h >= g.Height || w < 0 || w >= g.Width) continue;
                    sum += (double)dy[((n * outChannels + o) * oh + i) * ow + j] * x[((n * g.Channels + c) * g.Height + h) * g.Width + w];
                }
                dweight[((o * g.Channels + c) * g.KernelHeight + ki) * g.KernelWidth + kj] += (float)sum;
            }
            if (dbias.IsEmpty) continue;
            double biasSum = 0;
            for (int n = 0; n < samples; n++)
            for (int p = 0; p < oh * ow; p++) biasSum += dy[(n * outChannels + o) * oh * ow + p];
            dbias[o] += (float)biasSum;
        }
    }
}

namespace ParallelNet.Tensors.Cpu.Kernels.Naive;

/// <summary>Reference twin of <see cref="Pooling"/>: each window scanned over the padded input, padding as -inf (max) or 0 (average).</summary>
public static class NaivePooling
{
    public static void MaxForward(ReadOnlySpan<float> x, Span<float> y, ConvGeometry g)
    {
        int planes = Pooling.Validate("NaivePooling.MaxForward", g, x.Length, y.Length);
        for (int p = 0; p < planes; p++)
        for (int i = 0; i < g.OutHeight; i++)
        for (int j = 0; j < g.OutWidth; j++)
            y[(p * g.OutHeight + i) * g.OutWidth + j] = x[FirstMax(x, g, p, i, j)];
    }

    public static void MaxBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, ConvGeometry g)
    {
        int planes = Pooling.Validate("NaivePooling.MaxBackward", g, x.Length, dy.Length);
        dx.Clear();
        for (int p = 0; p < planes; p++)
        for (int i = 0; i < g.OutHeight; i++)
        for (int j = 0; j < g.OutWidth; j++)
            dx[FirstMax(x, g, p, i, j)] += dy[(p * g.OutHeight + i) * g.OutWidth + j];
    }

    public static void AvgForward(ReadOnlySpan<float> x, Span<float> y, ConvGeometry g)
    {
        int planes = Pooling.Validate("NaivePooling.AvgForward", g, x.Length, y.Length);
        for (int p = 0; p < planes; p++)
        for (int i = 0; i < g.OutHeight; i++)
        for (int j = 0; j < g.OutWidth; j++)
        {
            double sum = 0;
            for (int ki = 0; ki < g.KernelHeight; ki++)
            for (int kj = 0; kj < g.KernelWidth; kj++)
            {
                int h = i * g.StrideHeight - g.PadHeight + ki, w = j * g.StrideWidth - g.PadWidth + kj;
                if (h >= 0 && h < g.Height && w >= 0 && w < g.Width) sum += x[(p * g.Height + h) * g.Width + w];
            }
            y[(p * g.OutHeight + i) * g.OutWidth + j] = (float)(sum / (g.KernelHeight * g.KernelWidth));
        }
    }

    public static void AvgBackward(ReadOnlySpan<float> dy, Span<float> dx, ConvGeometry g)
    {
        int planes = Pooling.Validate("NaivePooling.AvgBackward", g, dx.Length, dy.Length);
        var sums = new double[dx.Length];
        for (int p = 0; p < planes; p++)
        for (int i = 0; i < g.OutHeight; i++)
        for (int j = 0; j < g.OutWidth; j++)
        {
            double share = (double)dy[(p * g.OutHeight + i) * g.OutWidth + j] / (g.KernelHeight * g.KernelWidth);
            for (int ki = 0; ki < g.KernelHeight; ki++)
            for (int kj = 0; kj < g.KernelWidth; kj++)
            {
                int h = i * g.StrideHeight - g.PadHeight + ki, w = j * g.StrideWidth - g.PadWidth + kj;
                if (h >= 0 && h < g.Height && w >= 0 && w < g.Width) sums[(p * g.Height + h) * g.Width + w] += share;
            }
        }
        for (int i = 0; i < dx.Length; i++) dx[i] = (float)sums[i];
    }

    private static int FirstMax(ReadOnlySpan<float> x, ConvGeometry g, int plane, int i, int j)
    {
        int best = -1;
        float bestValue = float.NegativeInfinity;
        for (int ki = 0; ki < g.KernelHeight; ki++)
        for (int kj = 0; kj < g.KernelWidth; kj++)
        {
            int h = i * g.StrideHeight - g.PadHeight + ki, w = j * g.StrideWidth - g.PadWidth + kj;
            if (h < 0 || h >= g.Height || w < 0 || w >= g.Width) continue;
            int index = (plane * g.Height + h) * g.Width + w;
            if (best < 0 || x[index] > bestValue || float.IsNaN(x[index]) && !float.IsNaN(bestValue))
            {
                best = index;
                bestValue = x[index];
            }
        }
        return best;
    }
}

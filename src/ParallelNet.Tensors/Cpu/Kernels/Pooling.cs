using System.Runtime.CompilerServices;
using ParallelNet.Tensors.Cpu.Internal;

namespace ParallelNet.Tensors.Cpu.Kernels;

/// <summary>Max and average pooling over NCHW with arbitrary window, stride and zero padding (PyTorch semantics, floor mode).</summary>
public static class Pooling
{
    /// <summary>Checks the geometry and lengths, and returns the number of (sample, channel) planes.</summary>
    public static int Validate(string op, ConvGeometry g, int xLength, int yLength)
    {
        g.Validate();
        if (g.PadHeight * 2 > g.KernelHeight || g.PadWidth * 2 > g.KernelWidth)
            throw new ArgumentException($"{op}: padding {g.PadHeight}x{g.PadWidth} must be at most half the window {g.KernelHeight}x{g.KernelWidth} (as in PyTorch), so no window lies entirely in the padding.");
        int planeSize = g.Height * g.Width;
        if (xLength % (g.Channels * planeSize) != 0)
            throw new ArgumentException($"{op}: input has {xLength} elements, not a whole number of [{g.Channels}, {g.Height}, {g.Width}] samples.");
        int planes = xLength / planeSize;
        KernelChecks.Length(op, $"output [{planes / g.Channels}, {g.Channels}, {g.OutHeight}, {g.OutWidth}]", yLength, (long)planes * g.OutHeight * g.OutWidth);
        return planes;
    }

    /// <summary>Each output is the maximum of its window; padded positions never win.</summary>
    public static void MaxForward(ReadOnlySpan<float> x, Span<float> y, ConvGeometry g, int firstPlane, int planeCount)
    {
        int oh = g.OutHeight, ow = g.OutWidth, planeSize = g.Height * g.Width;
        for (int p = firstPlane; p < firstPlane + planeCount; p++)
        {
            var image = x.Slice(p * planeSize, planeSize);
            var output = y.Slice(p * oh * ow, oh * ow);
            if (IsPlainTwoByTwo(g))
            {
                MaxForwardTwoByTwo(x, y, p * planeSize, g.Width, p * oh * ow, oh, ow);
                continue;
            }
            for (int i = 0; i < oh; i++)
            {
                for (int j = 0; j < ow; j++)
                    output[i * ow + j] = image[ArgMax(image, g, i, j)];
            }
        }
    }

    /// <summary>dx = 0, then each dy adds into the first maximum of its window (row-major scan).</summary>
    public static void MaxBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, ConvGeometry g, int firstPlane, int planeCount)
    {
        int oh = g.OutHeight, ow = g.OutWidth, planeSize = g.Height * g.Width;
        for (int p = firstPlane; p < firstPlane + planeCount; p++)
        {
            var image = x.Slice(p * planeSize, planeSize);
            var gradient = dx.Slice(p * planeSize, planeSize);
            var upstream = dy.Slice(p * oh * ow, oh * ow);
            if (IsPlainTwoByTwo(g))
            {
                // Every window position is written (winner dy, others 0), so only an odd last row or column needs clearing.
                MaxBackwardTwoByTwo(x, dy, dx, p * planeSize, g.Width, p * oh * ow, oh, ow);
                if (g.Width > 2 * ow)
                {
                    for (int r = 0; r < 2 * oh; r++) gradient[r * g.Width + g.Width - 1] = 0f;
                }
                gradient[(2 * oh * g.Width)..].Clear();
                continue;
            }
            gradient.Clear();
            for (int i = 0; i < oh; i++)
            {
                for (int j = 0; j < ow; j++)
                    gradient[ArgMax(image, g, i, j)] += upstream[i * ow + j];
            }
        }
    }

    /// <summary>The cnn presets' pooling (2x2, stride 2, no padding): windows tile the image, so each is four loads.</summary>
    private static bool IsPlainTwoByTwo(ConvGeometry g) =>
        g.KernelHeight == 2 && g.KernelWidth == 2 && g.StrideHeight == 2 && g.StrideWidth == 2 && g.PadHeight == 0 && g.PadWidth == 0;

    // x, y, dy, dx are the whole tensors (so the vector path may read past a row); plane and out are the plane's offsets.
    private static void MaxForwardTwoByTwo(ReadOnlySpan<float> x, Span<float> y, int plane, int width, int output, int oh, int ow)
    {
        for (int i = 0; i < oh; i++)
        {
            int topRow = plane + 2 * i * width, bottomRow = topRow + width, outRow = output + i * ow;
            int done = MaxPoolTwoByTwo.IsSupported ? MaxPoolTwoByTwo.Forward(x, y, topRow, width, outRow, ow) : 0;
            for (int j = done; j < ow; j++) y[outRow + j] = x[WindowArgMax(x, topRow + 2 * j, bottomRow + 2 * j)];
        }
    }

    private static void MaxBackwardTwoByTwo(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, int plane, int width, int output, int oh, int ow)
    {
        for (int i = 0; i < oh; i++)
        {
            int topRow = plane + 2 * i * width, bottomRow = topRow + width, outRow = output + i * ow;
            int done = MaxPoolTwoByTwo.IsSupported ? MaxPoolTwoByTwo.Backward(x, dy, dx, topRow, width, outRow, ow) : 0;
            for (int j = done; j < ow; j++)
            {
                int top = topRow + 2 * j, bottom = bottomRow + 2 * j;
                int winner = WindowArgMax(x, top, bottom);
                dx[top] = 0f;
                dx[top + 1] = 0f;
                dx[bottom] = 0f;
                dx[bottom + 1] = 0f;
                dx[winner] = dy[outRow + j];
            }
        }
    }

    /// <summary>First maximum of the 2x2 window whose rows start at top and bottom, in scan order.</summary>
    private static int WindowArgMax(ReadOnlySpan<float> image, int top, int bottom)
    {
        int best = top;
        best = Later(image, best, top + 1);
        best = Later(image, best, bottom);
        return Later(image, best, bottom + 1);
    }

    /// <summary>
    /// candidate if it beats best (strictly greater, or the first NaN), else best. Written with
    /// non-short-circuit operators and index arithmetic so it compiles without branches: on random
    /// data a branch here mispredicts half the time, which made pooling cost more than convolution.
    /// </summary>
    private static int Later(ReadOnlySpan<float> image, int best, int candidate)
    {
        float b = image[best], c = image[candidate];
        bool wins = (c > b) | (float.IsNaN(c) & !float.IsNaN(b));
        return best + ((candidate - best) & -Unsafe.As<bool, byte>(ref wins));
    }

    /// <summary>Window mean with padded positions counted as zeros (count_include_pad = true).</summary>
    public static void AvgForward(ReadOnlySpan<float> x, Span<float> y, ConvGeometry g, int firstPlane, int planeCount)
    {
        int oh = g.OutHeight, ow = g.OutWidth;
        float inverseArea = 1f / (g.KernelHeight * g.KernelWidth);
        for (int p = firstPlane; p < firstPlane + planeCount; p++)
        {
            var image = x.Slice(p * g.Height * g.Width, g.Height * g.Width);
            var output = y.Slice(p * oh * ow, oh * ow);
            for (int i = 0; i < oh; i++)
            {
                int h0 = i * g.StrideHeight - g.PadHeight;
                int hStart = Math.Max(h0, 0), hEnd = Math.Min(h0 + g.KernelHeight, g.Height);
                for (int j = 0; j < ow; j++)
                {
                    int w0 = j * g.StrideWidth - g.PadWidth;
                    int wStart = Math.Max(w0, 0), wEnd = Math.Min(w0 + g.KernelWidth, g.Width);
                    float sum = 0f;
                    for (int h = hStart; h < hEnd; h++)
                    {
                        for (int w = wStart; w < wEnd; w++) sum += image[h * g.Width + w];
                    }
                    output[i * ow + j] = sum * inverseArea;
                }
            }
        }
    }

    /// <summary>dx = 0, then each dy / (kh*kw) is added to every in-image position of its window.</summary>
    public static void AvgBackward(ReadOnlySpan<float> dy, Span<float> dx, ConvGeometry g, int firstPlane, int planeCount)
    {
        int oh = g.OutHeight, ow = g.OutWidth, planeSize = g.Height * g.Width;
        float inverseArea = 1f / (g.KernelHeight * g.KernelWidth);
        for (int p = firstPlane; p < firstPlane + planeCount; p++)
        {
            var gradient = dx.Slice(p * planeSize, planeSize);
            var upstream = dy.Slice(p * oh * ow, oh * ow);
            gradient.Clear();
            for (int i = 0; i < oh; i++)
            {
                int h0 = i * g.StrideHeight - g.PadHeight;
                int hStart = Math.Max(h0, 0), hEnd = Math.Min(h0 + g.KernelHeight, g.Height);
                for (int j = 0; j < ow; j++)
                {
                    int w0 = j * g.StrideWidth - g.PadWidth;
                    int wStart = Math.Max(w0, 0), wEnd = Math.Min(w0 + g.KernelWidth, g.Width);
                    float share = upstream[i * ow + j] * inverseArea;
                    for (int h = hStart; h < hEnd; h++)
                    {
                        for (int w = wStart; w < wEnd; w++) gradient[h * g.Width + w] += share;
                    }
                }
            }
        }
    }

    /// <summary>Index in the plane of the first maximum of output window (i, j); NaN wins, as in PyTorch.</summary>
    private static int ArgMax(ReadOnlySpan<float> image, ConvGeometry g, int i, int j)
    {
        int h0 = i * g.StrideHeight - g.PadHeight;
        int w0 = j * g.StrideWidth - g.PadWidth;
        int hStart = Math.Max(h0, 0), hEnd = Math.Min(h0 + g.KernelHeight, g.Height);
        int wStart = Math.Max(w0, 0), wEnd = Math.Min(w0 + g.KernelWidth, g.Width);
        int best = hStart * g.Width + wStart;
        for (int h = hStart; h < hEnd; h++)
        {
            for (int w = wStart; w < wEnd; w++)
            {
                best = Later(image, best, h * g.Width + w);
            }
        }
        return best;
    }
}

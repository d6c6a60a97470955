using System.Runtime.Intrinsics;

namespace ParallelNet.Tensors.Cpu.Internal;

/// <summary>
/// Forward of a 3x3, stride 1, unpadded convolution on ONE input channel (an image network's first layer)
/// without im2col: the nine shifted input vectors of an output run stay in registers while every output
/// channel's nine weights are broadcast against them. Through GEMM the nine-deep product spent its time
/// storing tiles and the im2col copy. Each output is the same FMA chain over the taps in ascending order
/// from zero, then + bias, as the im2col + GEMM path computes it, so the result is bitwise the same.
/// </summary>
internal static unsafe class DirectConvolution3x3
{
    private const int Taps = 9;

    public static bool Applies(ConvGeometry g) =>
        Vector256.IsHardwareAccelerated && UnpaddedColumns.Applies(g) && g.Channels == 1 && g.KernelHeight == 3 && g.KernelWidth == 3
        && g.OutWidth >= Vector256<float>.Count;

    /// <summary>y [outC, oh, ow] = weight [outC, 9] ⋆ x [1, H, W] (+ bias [outC] when not empty) for one sample.</summary>
    public static void ForwardSample(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y, ConvGeometry g, int outChannels)
    {
        int width = g.Width, oh = g.OutHeight, ow = g.OutWidth, plane = oh * ow;
        KernelChecks.AtLeast("Conv2dForward", "x", x.Length, (long)g.Height * width);
        KernelChecks.AtLeast("Conv2dForward", "weight", weight.Length, (long)outChannels * Taps);
        KernelChecks.AtLeast("Conv2dForward", "y", y.Length, (long)outChannels * plane);
        if (!bias.IsEmpty) KernelChecks.AtLeast("Conv2dForward", "bias", bias.Length, outChannels);
        const int step = 8; // Vector256<float>.Count
        fixed (float* image = x, w = weight, b = bias, output = y)
        {
            for (int i = 0; i < oh; i++)
            {
                for (int j0 = 0; j0 < ow; j0 += step)
                {
                    // The last run may overlap the previous one: its outputs are recomputed to the same values.
                    int j = Math.Min(j0, ow - step);
                    float* top = image + i * width + j, middle = top + width, bottom = middle + width;
                    Vector256<float> x0 = Vector256.Load(top), x1 = Vector256.Load(top + 1), x2 = Vector256.Load(top + 2);
                    Vector256<float> x3 = Vector256.Load(middle), x4 = Vector256.Load(middle + 1), x5 = Vector256.Load(middle + 2);
                    Vector256<float> x6 = Vector256.Load(bottom), x7 = Vector256.Load(bottom + 1), x8 = Vector256.Load(bottom + 2);
                    float* target = output + i * ow + j;
                    for (int o = 0; o < outChannels; o++, target += plane)
                    {
                        float* k = w + o * Taps;
                        var sum = Vector256.FusedMultiplyAdd(Vector256.Create(k[0]), x0, Vector256<float>.Zero);
                        sum = Vector256.FusedMultiplyAdd(Vector256.Create(k[1]), x1, sum);
                        sum = Vector256.FusedMultiplyAdd(Vector256.Create(k[2]), x2, sum);
                        sum = Vector256.FusedMultiplyAdd(Vector256.Create(k[3]), x3, sum);
                        sum = Vector256.FusedMultiplyAdd(Vector256.Create(k[4]), x4, sum);
                        sum = Vector256.FusedMultiplyAdd(Vector256.Create(k[5]), x5, sum);
                        sum = Vector256.FusedMultiplyAdd(Vector256.Create(k[6]), x6, sum);
                        sum = Vector256.FusedMultiplyAdd(Vector256.Create(k[7]), x7, sum);
                        sum = Vector256.FusedMultiplyAdd(Vector256.Create(k[8]), x8, sum);
                        if (b != null) sum += Vector256.Create(b[o]);
                        sum.Store(target);
                    }
                }
            }
        }
    }
}

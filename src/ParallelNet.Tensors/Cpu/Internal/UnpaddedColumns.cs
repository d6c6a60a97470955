using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ParallelNet.Tensors.Cpu.Internal;

/// <summary>
/// im2col and col2im for stride 1 without padding (the cnn preset's "valid" 3x3 layers): every output row
/// of a column row is one contiguous run of the image, so a row moves as a few whole vectors through
/// pointers. The general span-per-row loop spent more on call overhead than on the 11-float copies.
/// Col2im adds in the same (c, ki, kj) order as the general path, so the result is bitwise the same.
/// </summary>
internal static unsafe class UnpaddedColumns
{
    public static bool Applies(ConvGeometry g) => g.StrideHeight == 1 && g.StrideWidth == 1 && g.PadHeight == 0 && g.PadWidth == 0;

    public static void Im2Col(ReadOnlySpan<float> x, ConvGeometry g, Span<float> columns)
    {
        int oh = g.OutHeight, ow = g.OutWidth, width = g.Width, plane = oh * ow, imageSize = g.Height * width;
        CheckLengths("Im2Col", x.Length, columns.Length, g);
        fixed (float* image = x, column = columns)
        {
            float* destination = column;
            for (int c = 0; c < g.Channels; c++)
            {
                for (int ki = 0; ki < g.KernelHeight; ki++)
                {
                    for (int kj = 0; kj < g.KernelWidth; kj++, destination += plane)
                    {
                        float* source = image + c * imageSize + ki * width + kj;
                        for (int i = 0; i < oh; i++) CopyRow(source + i * width, destination + i * ow, ow);
                    }
                }
            }
        }
    }

    /// <summary>dx += col2im(columns), dx already cleared by the caller.</summary>
    public static void Col2ImAdd(ReadOnlySpan<float> columns, ConvGeometry g, Span<float> dx)
    {
        int oh = g.OutHeight, ow = g.OutWidth, width = g.Width, plane = oh * ow, imageSize = g.Height * width;
        CheckLengths("Col2Im", dx.Length, columns.Length, g);
        fixed (float* image = dx, column = columns)
        {
            float* source = column;
            for (int c = 0; c < g.Channels; c++)
            {
                for (int ki = 0; ki < g.KernelHeight; ki++)
                {
                    for (int kj = 0; kj < g.KernelWidth; kj++, source += plane)
                    {
                        float* destination = image + c * imageSize + ki * width + kj;
                        for (int i = 0; i < oh; i++) AddRow(source + i * ow, destination + i * width, ow);
                    }
                }
            }
        }
    }

    private static void CheckLengths(string op, int imageLength, int columnsLength, ConvGeometry g)
    {
        KernelChecks.AtLeast(op, "image", imageLength, (long)g.Channels * g.Height * g.Width);
        KernelChecks.AtLeast(op, "columns", columnsLength, (long)g.Channels * g.KernelHeight * g.KernelWidth * g.OutHeight * g.OutWidth);
    }

    // A copy may overlap its last vector with the previous one: writing a value twice is harmless.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRow(float* source, float* destination, int count)
    {
        if (count < Vector256<float>.Count)
        {
            for (int j = 0; j < count; j++) destination[j] = source[j];
            return;
        }
        int last = count - Vector256<float>.Count;
        for (int j = 0; j < last; j += Vector256<float>.Count) Vector256.Store(Vector256.Load(source + j), destination + j);
        Vector256.Store(Vector256.Load(source + last), destination + last);
    }

    // Adds cannot overlap, so the tail past the last whole vector is scalar.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddRow(float* source, float* destination, int count)
    {
        int j = 0;
        for (; j <= count - Vector256<float>.Count; j += Vector256<float>.Count)
            Vector256.Store(Vector256.Load(destination + j) + Vector256.Load(source + j), destination + j);
        for (; j < count; j++) destination[j] += source[j];
    }
}

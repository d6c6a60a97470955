using System.Numerics.Tensors;
using ParallelNet.Tensors.Cpu.Internal;

namespace ParallelNet.Tensors.Cpu.Kernels;

/// <summary>Row-wise softmax family over [rows, cols]; every row subtracts its maximum before exponentiating.</summary>
public static class Softmax
{
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, int cols)
    {
        KernelChecks.SameLength("Softmax", x.Length, y.Length, "x", "y");
        KernelChecks.DivisibleBy("Softmax", "x", x.Length, cols, "cols");
        for (int offset = 0; offset < x.Length; offset += cols)
            ForwardRow(x.Slice(offset, cols), y.Slice(offset, cols));
    }

    public static void LogForward(ReadOnlySpan<float> x, Span<float> y, int cols)
    {
        KernelChecks.SameLength("LogSoftmax", x.Length, y.Length, "x", "y");
        KernelChecks.DivisibleBy("LogSoftmax", "x", x.Length, cols, "cols");
        for (int offset = 0; offset < x.Length; offset += cols)
        {
            var row = x.Slice(offset, cols);
            var output = y.Slice(offset, cols);
            float shift = TensorPrimitives.Max(row);
            TensorPrimitives.Subtract(row, shift, output);
            float logSum = LogSumExpOfShifted(output);
            TensorPrimitives.Subtract(output, logSum, output);
        }
    }

    /// <summary>dx = y * (dy - Σ dy*y), row by row.</summary>
    public static void Backward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, int cols)
    {
        KernelChecks.SameLength("SoftmaxBackward", y.Length, dy.Length, "y", "dy");
        KernelChecks.SameLength("SoftmaxBackward", y.Length, dx.Length, "y", "dx");
        KernelChecks.DivisibleBy("SoftmaxBackward", "y", y.Length, cols, "cols");
        for (int offset = 0; offset < y.Length; offset += cols)
        {
            var yr = y.Slice(offset, cols);
            var dyr = dy.Slice(offset, cols);
            var dxr = dx.Slice(offset, cols);
            float dot = TensorPrimitives.Dot(dyr, yr);
            TensorPrimitives.Subtract(dyr, dot, dxr);
            TensorPrimitives.Multiply(dxr, yr, dxr);
        }
    }

    internal static void ForwardRow(ReadOnlySpan<float> row, Span<float> output)
    {
        float shift = TensorPrimitives.Max(row);
        TensorPrimitives.Subtract(row, shift, output);
        TensorPrimitives.Exp(output, output);
        float sum = TensorPrimitives.Sum(output);
        TensorPrimitives.Divide(output, sum, output);
    }

    /// <summary>log Σ exp(v) for a row already shifted by its maximum (so the largest term is exp(0) = 1 and nothing overflows).</summary>
    internal static float LogSumExpOfShifted(ReadOnlySpan<float> shifted)
    {
        float sum = 0f;
        foreach (float v in shifted) sum += MathF.Exp(v);
        return MathF.Log(sum);
    }
}

namespace ParallelNet.Tensors.OpenCL.Internal;

/// <summary>Argument checks of the OpenCL backend, worded like the CPU backend's so both fail the same way.</summary>
internal static class Checks
{
    public static void SameLength(string op, int a, int b, string aName, string bName)
    {
        if (a != b) throw new ArgumentException($"{op}: {aName} has {a} elements but {bName} has {b}; they must have the same length.");
    }

    public static void Length(string op, string name, int actual, long expected)
    {
        if (actual != expected) throw new ArgumentException($"{op}: {name} has {actual} elements, expected {expected}.");
    }

    public static void Positive(string op, string name, int value)
    {
        if (value <= 0) throw new ArgumentException($"{op}: {name} must be positive, got {value}.");
    }

    public static void DivisibleBy(string op, string name, int length, int divisor, string divisorName)
    {
        if (divisor <= 0) throw new ArgumentException($"{op}: {divisorName} must be positive, got {divisor}.");
        if (length % divisor != 0) throw new ArgumentException($"{op}: {name} has {length} elements, not a multiple of {divisorName} = {divisor}.");
    }

    public static void Probability(string op, string name, float p)
    {
        if (!(p >= 0f && p < 1f)) throw new ArgumentOutOfRangeException(name, $"{op}: {name} must be in [0, 1), got {p}.");
    }

    public static void NonNegativeSample(string op, long firstSample)
    {
        if (firstSample < 0) throw new ArgumentOutOfRangeException(nameof(firstSample), $"{op}: firstSample must be non-negative, got {firstSample}.");
    }

    public static void Gemm(int m, int n, int k, int aLength, int bLength, int cLength)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentException($"GEMM dimensions must be non-negative, got m={m} n={n} k={k}.");
        if (aLength < (long)m * k) throw new ArgumentException($"GEMM operand A has {aLength} elements, needs m*k = {(long)m * k}.");
        if (bLength < (long)k * n) throw new ArgumentException($"GEMM operand B has {bLength} elements, needs k*n = {(long)k * n}.");
        if (cLength < (long)m * n) throw new ArgumentException($"GEMM output C has {cLength} elements, needs m*n = {(long)m * n}.");
    }
}

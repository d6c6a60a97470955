using System.Runtime.Intrinsics;
using ParallelNet.Tensors.Cpu.Internal;

namespace ParallelNet.Tensors.Cpu.Kernels;

// The vectorized bodies of the activations: (a, b) is (x, x) for forward passes and (x or y, dy) for backward ones.

/// <summary>x &gt; 0 ? x : alpha * x.</summary>
internal readonly struct LeakyReluForwardOp(float alpha) : IPointwise2
{
    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> _) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), x, x * alpha);
    public Vector256<float> Invoke(Vector256<float> x, Vector256<float> _) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), x, x * alpha);
    public float Invoke(float x, float _) => x > 0f ? x : alpha * x;
}

/// <summary>x &gt; 0 ? dy : alpha * dy.</summary>
internal readonly struct LeakyReluBackwardOp(float alpha) : IPointwise2
{
    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> dy) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), dy, dy * alpha);
    public Vector256<float> Invoke(Vector256<float> x, Vector256<float> dy) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), dy, dy * alpha);
    public float Invoke(float x, float dy) => x > 0f ? dy : alpha * dy;
}

/// <summary>x &gt;= 0 ? 1 : 0.</summary>
internal readonly struct StepOp : IPointwise2
{
    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> _) => Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(x, Vector512<float>.Zero), Vector512<float>.One, Vector512<float>.Zero);
    public Vector256<float> Invoke(Vector256<float> x, Vector256<float> _) => Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x, Vector256<float>.Zero), Vector256<float>.One, Vector256<float>.Zero);
    public float Invoke(float x, float _) => x >= 0f ? 1f : 0f;
}

/// <summary>dy * y * (1 - y).</summary>
internal readonly struct SigmoidBackwardOp : IPointwise2
{
    public Vector512<float> Invoke(Vector512<float> y, Vector512<float> dy) => dy * y * (Vector512<float>.One - y);
    public Vector256<float> Invoke(Vector256<float> y, Vector256<float> dy) => dy * y * (Vector256<float>.One - y);
    public float Invoke(float y, float dy) => dy * y * (1f - y);
}

/// <summary>dy * (1 - y²).</summary>
internal readonly struct TanhBackwardOp : IPointwise2
{
    public Vector512<float> Invoke(Vector512<float> y, Vector512<float> dy) => dy * (Vector512<float>.One - y * y);
    public Vector256<float> Invoke(Vector256<float> y, Vector256<float> dy) => dy * (Vector256<float>.One - y * y);
    public float Invoke(float y, float dy) => dy * (1f - y * y);
}

/// <summary>x &gt; 0 ? b : +0, so ReLU(x) = Invoke(x, x) and its backward pass is Invoke(x, dy), with no -0 or NaN * 0 leaking out.</summary>
internal readonly struct PositivePartOp : IPointwise2
{
    public Vector512<float> Invoke(Vector512<float> x, Vector512<float> b) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), b, Vector512<float>.Zero);
    public Vector256<float> Invoke(Vector256<float> x, Vector256<float> b) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), b, Vector256<float>.Zero);
    public float Invoke(float x, float b) => x > 0f ? b : 0f;
}

namespace ParallelNet.Tensors.OpenCL.Tests;

/// <summary>
/// The stated agreement between the OpenCL and CPU backends, per element: |opencl - cpu| &lt;= tol * (1 + |cpu|).
/// These are also the tolerances a job mixing backends inherits per step.
/// </summary>
internal static class Tolerances
{
    /// <summary>Same float operations in the same order (elementwise ops, ReLU family, pooling, col2im, dropout and RReLU masks, optimizer updates).</summary>
    public const double Bitwise = 0;

    /// <summary>exp, log, tanh: OpenCL's built-ins may differ from .NET's by a few ulp (≈ 1.2e-7 each).</summary>
    public const double Transcendental = 2e-6;

    /// <summary>Sums accumulated in double (or float rows) in a different grouping than the CPU's.</summary>
    public const double Reduction = 1e-6;

    /// <summary>Float sums along a row of up to ~1000 terms in another order (TensorPrimitives' order even depends on the array's alignment).</summary>
    public const double FloatRowSum = 2e-5;

    /// <summary>GEMM and convolution: CLBlast accumulates each dot product in its own tile order, in float.</summary>
    public const double Gemm = 2e-5;
}

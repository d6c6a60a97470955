using ParallelNet.Tensors.Cpu;

namespace ParallelNet.Tensors.OpenCL.Tests;

/// <summary>
/// One OpenCL backend (on the first device) and one CPU backend for the whole test run: building the
/// kernels and CLBlast's GEMM takes seconds on POCL, so the tests share them.
/// </summary>
public sealed class OpenClFixture : IDisposable
{
    public OpenClFixture()
    {
        if (OpenClAvailability.SkipReason is null) Gpu = OpenClCompute.Create(0);
    }

    /// <summary>Null only when the tests are skipped (no OpenCL platform).</summary>
    public OpenClCompute? Gpu { get; }
    public CpuCompute Cpu { get; } = new(2);

    public OpenClCompute Device => Gpu ?? throw new InvalidOperationException(OpenClAvailability.SkipReason);

    public void Dispose() => Gpu?.Dispose();
}

[CollectionDefinition(Name)]
public sealed class OpenClCollection : ICollectionFixture<OpenClFixture>
{
    public const string Name = "OpenCL";
}

/// <summary>Why OpenCL tests cannot run here, or null when a device exists (CI installs POCL, so there they always run).</summary>
public static class OpenClAvailability
{
    private static readonly Lazy<string?> Reason = new(() =>
    {
        try
        {
            return OpenClDevices.Discover().Count == 0 ? "No OpenCL platform found (install pocl-opencl-icd to run these tests)." : null;
        }
        catch (OpenClException e)
        {
            return e.Message;
        }
    });

    public static string? SkipReason => Reason.Value;
}

/// <summary>A fact that is skipped, with the reason, when the machine has no OpenCL platform.</summary>
public sealed class OpenClFactAttribute : FactAttribute
{
    public OpenClFactAttribute()
    {
        if (OpenClAvailability.SkipReason is { } reason) Skip = reason;
    }
}

/// <summary>A theory that is skipped, with the reason, when the machine has no OpenCL platform.</summary>
public sealed class OpenClTheoryAttribute : TheoryAttribute
{
    public OpenClTheoryAttribute()
    {
        if (OpenClAvailability.SkipReason is { } reason) Skip = reason;
    }
}

using ParallelNet.Tensors.Cpu;

namespace ParallelNet.Tensors.OpenCL;

/// <summary>One entry of <c>parallelnet devices</c>: the id to pass to <c>--device</c> and what it is.</summary>
public sealed record ComputeDeviceInfo(string Id, string Description);

/// <summary>The devices <c>--device</c> can name, and why OpenCL is missing when it is.</summary>
public sealed record ComputeDeviceList(IReadOnlyList<ComputeDeviceInfo> Devices, string? OpenClUnavailableReason);

/// <summary>
/// Turns a <c>--device</c> value into a backend: <c>cpu</c>, <c>opencl</c> (= <c>opencl:0</c>), <c>opencl:N</c>
/// (N as listed by <see cref="List"/>) or <c>auto</c> (the first OpenCL GPU, else the CPU, saying so).
/// Only <c>auto</c> falls back; an explicit <c>opencl</c> without a usable device is an error.
/// </summary>
public static class ComputeDevices
{
    public const string Usage = "cpu, opencl, opencl:N or auto";

    public static ComputeDeviceList List()
    {
        var devices = new List<ComputeDeviceInfo> { new("cpu", $"CPU backend (AVX GEMM, {Environment.ProcessorCount} cores)") };
        try
        {
            var openCl = OpenClDevices.Discover();
            devices.AddRange(openCl.Select(d => new ComputeDeviceInfo($"opencl:{d.Index}",
                $"{d.Name} ({d.Type}, {d.Platform}, {d.ComputeUnits} compute units, {d.GlobalMemoryBytes / (1024 * 1024)} MiB{(d.HasDoublePrecision ? "" : ", no fp64")})")));
            return new ComputeDeviceList(devices, openCl.Count == 0 ? "no OpenCL platform found (install an OpenCL driver, e.g. pocl-opencl-icd)" : null);
        }
        catch (OpenClException e)
        {
            return new ComputeDeviceList(devices, e.Message);
        }
    }

    /// <param name="device">cpu, opencl, opencl:N or auto.</param>
    /// <param name="threads">CPU backend threads (0 = all cores); ignored by OpenCL.</param>
    /// <param name="notice">Told, in one line, when <c>auto</c> settles on the CPU and why.</param>
    /// <exception cref="ArgumentException">The value is not one of the accepted forms.</exception>
    /// <exception cref="OpenClException">OpenCL was asked for explicitly and cannot be used; the message says what to install.</exception>
    public static ICompute Create(string device, int threads, Action<string>? notice = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (threads < 0) throw new ArgumentOutOfRangeException(nameof(threads), $"threads must be 0 (all cores) or positive, got {threads}.");
        string value = device.Trim().ToLowerInvariant();
        if (value == "cpu") return new CpuCompute(threads);
        if (value == "auto") return CreateAuto(threads, notice);
        if (value == "opencl") return OpenClCompute.Create(0);
        if (value.StartsWith("opencl:", StringComparison.Ordinal) && int.TryParse(value.AsSpan("opencl:".Length), out int index) && index >= 0)
            return OpenClCompute.Create(index);
        throw new ArgumentException($"--device must be {Usage}, got '{device}'.");
    }

    private static ICompute CreateAuto(int threads, Action<string>? notice)
    {
        string reason;
        try
        {
            var gpu = OpenClDevices.Discover().FirstOrDefault(d => d.IsGpu);
            if (gpu is not null) return new OpenClCompute(gpu);
            reason = "no OpenCL GPU found (an OpenCL CPU device such as POCL is slower than the CPU backend)";
        }
        catch (OpenClException e)
        {
            reason = e.Message;
        }
        notice?.Invoke($"--device auto: {reason}; using the CPU backend.");
        return new CpuCompute(threads);
    }
}

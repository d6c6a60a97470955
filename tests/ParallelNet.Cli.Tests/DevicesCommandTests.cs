namespace ParallelNet.Cli.Tests;

/// <summary><c>parallelnet devices</c> and the OpenCL branch of <c>bench gemm</c>'s argument handling.</summary>
public sealed class DevicesCommandTests
{
    [Fact]
    public void Devices_ListsTheCpuAndAuto()
    {
        var run = CliRunner.Run("devices");
        Assert.Equal(0, run.ExitCode);
        var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("cpu ", lines[0]);
        Assert.StartsWith("auto ", lines[^1]);
        // Every other line is an OpenCL device or the one line that says why there is none.
        Assert.All(lines[1..^1], l => Assert.True(l.StartsWith("opencl:", StringComparison.Ordinal) || l.StartsWith("OpenCL unavailable: ", StringComparison.Ordinal), l));
    }

    [Fact]
    public void BenchGemm_RejectsAnUnknownDeviceInOneLine()
    {
        var run = CliRunner.Run("bench", "gemm", "--device", "tpu");
        Assert.Equal(2, run.ExitCode);
        Assert.Equal("parallelnet: error: --device must be cpu, opencl, opencl:N or auto, got 'tpu'.", run.Error.Trim());
    }
}

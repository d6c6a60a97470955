using ParallelNet.Tensors.Cpu;

namespace ParallelNet.Tensors.OpenCL.Tests;

public class ComputeDevicesTests
{
    [Fact]
    public void Cpu_IsTheCpuBackendWithTheRequestedThreads()
    {
        var compute = Assert.IsType<CpuCompute>(ComputeDevices.Create("cpu", 3));
        Assert.Equal(3, compute.Threads);
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("opencl:")]
    [InlineData("opencl:-1")]
    [InlineData("opencl:x")]
    [InlineData("")]
    public void UnknownValues_SayWhatIsAccepted(string device)
    {
        var e = Assert.Throws<ArgumentException>(() => ComputeDevices.Create(device, 1));
        Assert.Equal($"--device must be cpu, opencl, opencl:N or auto, got '{device}'.", e.Message);
    }

    [Fact]
    public void List_StartsWithTheCpu()
    {
        var list = ComputeDevices.List();
        Assert.Equal("cpu", list.Devices[0].Id);
    }

    [OpenClFact]
    public void List_ShowsEveryOpenClDevice()
    {
        var list = ComputeDevices.List();
        Assert.Null(list.OpenClUnavailableReason);
        Assert.Equal(OpenClDevices.Discover().Select(d => $"opencl:{d.Index}"), list.Devices.Skip(1).Select(d => d.Id));
    }

    [OpenClFact]
    public void OpenCl_NamesTheDevice_AndAMissingIndexIsAClearError()
    {
        using (var compute = Assert.IsType<OpenClCompute>(ComputeDevices.Create("OpenCL:0", 0))) Assert.Equal(0, compute.Device.Index);
        int count = OpenClDevices.Discover().Count;
        var e = Assert.Throws<ArgumentException>(() => ComputeDevices.Create($"opencl:{count}", 0));
        Assert.Contains($"OpenCL device {count} does not exist", e.Message);
    }

    [OpenClFact]
    public void Auto_PicksAGpu_OrFallsBackToTheCpuAndSaysWhy()
    {
        var notices = new List<string>();
        var compute = ComputeDevices.Create("auto", 1, notices.Add);
        if (OpenClDevices.Discover().Any(d => d.IsGpu))
        {
            Assert.IsType<OpenClCompute>(compute);
            Assert.Empty(notices);
        }
        else
        {
            Assert.IsType<CpuCompute>(compute);
            Assert.Equal("--device auto: no OpenCL GPU found (an OpenCL CPU device such as POCL is slower than the CPU backend); using the CPU backend.", Assert.Single(notices));
        }
    }
}

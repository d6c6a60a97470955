using System.Diagnostics;
using ParallelNet.Cli.Tests.Commands.Node;

namespace ParallelNet.Cli.Tests;

/// <summary>docker/docker-compose.gpu.yml overrides the base compose file: GPU image, one GPU per worker, OpenCL device.</summary>
public sealed class GpuDockerTests
{
    [DockerComposeFact]
    public void GpuOverride_GivesWorkersAGpuAndTheOpenClDevice_AndLeavesTheCoordinatorAlone()
    {
        var start = new ProcessStartInfo(DockerComposeFactAttribute.Executable!) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-f", NodeSettingsTests.RepositoryFile("docker", "docker-compose.yml"), "-f", NodeSettingsTests.RepositoryFile("docker", "docker-compose.gpu.yml"), "config" })
            start.ArgumentList.Add(a);
        start.Environment.Remove("PARALLELNET_DEVICE");
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        string error = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(60_000), "docker-compose config did not finish within 60 s");
        Assert.True(process.ExitCode == 0, $"docker-compose config refused the GPU override: {error}");

        int worker = output.IndexOf("\n  worker:", StringComparison.Ordinal), coordinator = output.IndexOf("\n  coordinator:", StringComparison.Ordinal);
        Assert.True(worker > 0 && coordinator > 0, output);
        string workerSection = worker > coordinator ? output[worker..] : output[worker..coordinator];
        string coordinatorSection = worker > coordinator ? output[coordinator..worker] : output[coordinator..];
        foreach (var expected in new[] { "dockerfile: docker/Dockerfile.gpu", "image: parallelnet:gpu", "driver: nvidia", "- gpu", "PARALLELNET_DEVICE: opencl", "NVIDIA_VISIBLE_DEVICES: all" })
            Assert.Contains(expected, workerSection);
        Assert.DoesNotContain("nvidia", coordinatorSection);
        Assert.Contains("node", workerSection);
    }

    [Fact]
    public void GpuImage_InstallsOpenClAndClBlast_OnTopOfTheBaseImage()
    {
        string dockerfile = File.ReadAllText(NodeSettingsTests.RepositoryFile("docker", "Dockerfile.gpu"));
        Assert.Contains("FROM ${BASE}", dockerfile);
        foreach (var expected in new[] { "ocl-icd-libopencl1", "libclblast1", "libnvidia-opencl.so.1", "/etc/OpenCL/vendors/nvidia.icd", "PARALLELNET_DEVICE=opencl", "NVIDIA_DRIVER_CAPABILITIES=compute" })
            Assert.Contains(expected, dockerfile);
    }
}

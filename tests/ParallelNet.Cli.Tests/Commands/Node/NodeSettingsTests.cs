using System.Collections;
using System.Diagnostics;
using ParallelNet.Cli.Commands.Node;

namespace ParallelNet.Cli.Tests.Commands.Node;

/// <summary>Node settings: flag over environment over config file, the shipped cluster-config files, and the compose file.</summary>
public sealed class NodeSettingsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("pn-node-").FullName;
    public void Dispose() => Directory.Delete(_directory, recursive: true);

    internal static string RepositoryFile(params string[] parts)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ParallelNet.sln"))) dir = dir.Parent;
        return Path.Combine([dir?.FullName ?? throw new InvalidOperationException("ParallelNet.sln not found above the test binaries."), .. parts]);
    }

    private static readonly Dictionary<string, string> NoFlags = [];

    [Fact]
    public void AFlagBeatsTheEnvironmentWhichBeatsTheFile()
    {
        string file = Path.Combine(_directory, "node.yaml");
        File.WriteAllText(file, "role: worker\ncluster-token: from-file\nseeds: [a:1, b:2]\nthreads: 3\nlisten: 127.0.0.1:9000\n");
        var environment = new Hashtable { ["PARALLELNET_CLUSTER_TOKEN"] = "from-env", ["PARALLELNET_THREADS"] = "2" };
        var flags = new Dictionary<string, string> { ["cluster-token"] = "from-flag" };

        var settings = NodeSettings.Resolve(flags, environment, file);

        Assert.Equal("from-flag", settings.ClusterToken);
        Assert.Equal(2, settings.Threads);
        Assert.Equal(["a:1", "b:2"], settings.Seeds);
        Assert.Equal(("127.0.0.1", 9000), (settings.ListenHost, settings.ListenPort));
        Assert.Equal("cpu", settings.Device);
        Assert.True(settings.SharedMemory);
        Assert.Equal(64, settings.SharedMemoryMib);
        Assert.True(settings.YieldBetweenLayers);
    }

    [Fact]
    public void SharedMemoryCanBeTurnedOffAndSizedFromAnySource()
    {
        var settings = NodeSettings.Resolve(new Dictionary<string, string> { ["shared-memory"] = "off" },
            new Hashtable { ["PARALLELNET_SHARED_MEMORY_MIB"] = "8" }, WriteRoleFile());
        Assert.False(settings.SharedMemory);
        Assert.Equal(8, settings.SharedMemoryMib);
    }

    [Fact]
    public void YieldingBetweenLayersCanBeTurnedOffByFlagOrEnvironment()
    {
        Assert.False(NodeSettings.Resolve(new Dictionary<string, string> { ["yield-between-layers"] = "off" }, new Hashtable(), WriteRoleFile()).YieldBetweenLayers);
        Assert.False(NodeSettings.Resolve(NoFlags, new Hashtable { ["PARALLELNET_YIELD_BETWEEN_LAYERS"] = "off" }, WriteRoleFile()).YieldBetweenLayers);
    }

    private string WriteRoleFile()
    {
        string file = Path.Combine(_directory, "role.yaml");
        File.WriteAllText(file, "role: worker\nshared-memory: auto\n");
        return file;
    }

    [Theory]
    [InlineData("role: worker\nbogus: 1\n", "unknown setting 'bogus'")]
    [InlineData("role: boss\n", "unknown role 'boss'")]
    [InlineData("role: worker\nlisten: nowhere\n", "not HOST:PORT")]
    [InlineData("role: worker\nheartbeat-seconds: 20\n", "heartbeat-seconds < unreachable-after-seconds")]
    [InlineData("role: worker\nthreads: many\n", "threads must be an integer")]
    [InlineData("role: [worker\n", "not valid YAML")]
    [InlineData("role: worker\nshared-memory: sometimes\n", "shared-memory must be auto or off")]
    [InlineData("role: worker\nshared-memory-mib: 4096\n", "shared-memory-mib must be at most 1024")]
    [InlineData("role: worker\nshared-memory-mib: 0\n", "shared-memory-mib must be an integer >= 1")]
    [InlineData("role: worker\nyield-between-layers: sometimes\n", "yield-between-layers must be on or off")]
    public void BadSettingsAreReportedByName(string yaml, string expected)
    {
        string file = Path.Combine(_directory, "bad.yaml");
        File.WriteAllText(file, yaml);
        var error = Assert.Throws<UsageException>(() => NodeSettings.Resolve(NoFlags, new Hashtable(), file));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void WithoutARoleTheMessageNamesEveryWayToGiveOne()
    {
        var error = Assert.Throws<UsageException>(() => NodeSettings.Resolve(NoFlags, new Hashtable(), null));
        Assert.Contains("PARALLELNET_ROLE", error.Message);
    }

    [Theory]
    [InlineData("coordinator.yaml", "coordinator")]
    [InlineData("worker.yaml", "worker")]
    public void TheShippedClusterConfigFilesAreValid(string file, string role)
    {
        var settings = NodeSettings.Resolve(NoFlags, new Hashtable(), RepositoryFile("cluster-config", file));
        Assert.Equal(role, settings.Role);
        Assert.Equal(["coordinator:7070"], settings.Seeds);
    }

    [DockerComposeFact]
    public void DockerComposeAcceptsTheComposeFile()
    {
        var start = new ProcessStartInfo(DockerComposeFactAttribute.Executable!) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-f", RepositoryFile("docker", "docker-compose.yml"), "config" }) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        string error = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(60_000), "docker-compose config did not finish within 60 s");
        Assert.True(process.ExitCode == 0, $"docker-compose config refused the file: {error}");
        Assert.Contains("coordinator:", output);
        Assert.Contains("worker:", output);
        Assert.Contains("/config/coordinator.yaml", output);
    }
}

/// <summary>Skipped, with the reason, where the docker-compose binary is missing.</summary>
public sealed class DockerComposeFactAttribute : FactAttribute
{
    public static readonly string? Executable = Environment.GetEnvironmentVariable("PATH")?.Split(':')
        .Select(p => Path.Combine(p, "docker-compose")).FirstOrDefault(File.Exists);

    public DockerComposeFactAttribute()
    {
        if (Executable is null) Skip = "docker-compose is not installed (Debian package docker-compose, installed by .ci/setup.sh); the compose file was not checked.";
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ParallelNet.Cli.Tests.Commands.Node;

/// <summary>
/// Real `parallelnet node` processes on 127.0.0.1, started from the shipped cluster-config files with the
/// address, directories and (fast) failure-detector thresholds overridden by flags.
/// </summary>
internal sealed class ClusterProcesses : IAsyncDisposable
{
    private static readonly string[] FastDetector = ["--heartbeat-seconds", "0.2", "--unreachable-after-seconds", "1", "--removed-after-seconds", "2"];
    private readonly List<NodeProcess> _nodes = [];

    public ClusterProcesses(string directory)
    {
        Directory = directory;
        CoordinatorPort = FreePort();
    }

    public string Directory { get; }
    public int CoordinatorPort { get; }

    public NodeProcess StartWorker(string token = "change-me", params string[] extra) => Start("worker",
        ["node", "--config", NodeSettingsTests.RepositoryFile("cluster-config", "worker.yaml"), "--listen", "127.0.0.1:0",
         "--seeds", $"127.0.0.1:{CoordinatorPort}", "--threads", "1", "--cluster-token", token, .. FastDetector, .. extra]);

    /// <summary>A coordinator running the job given by <paramref name="job"/> (training flags), exiting when it ends.</summary>
    public NodeProcess StartCoordinator(params string[] job) => Start("coordinator",
        ["node", "--config", NodeSettingsTests.RepositoryFile("cluster-config", "coordinator.yaml"), "--listen", $"127.0.0.1:{CoordinatorPort}",
         "--advertise", "127.0.0.1", "--checkpoint-dir", Path.Combine(Directory, "checkpoints"), "--json", .. FastDetector, .. job]);

    private NodeProcess Start(string name, string[] args)
    {
        var node = NodeProcess.Start($"{name}-{_nodes.Count}", args);
        _nodes.Add(node);
        return node;
    }

    /// <summary>Every node's log, for a failure message.</summary>
    public string Logs() => string.Join("\n", _nodes.Select(n => $"--- {n.Name}:\n{n.Error}"));

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes) node.Kill();
        foreach (var node in _nodes) await node.DisposeAsync();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>One node process: its stdout and stderr collected as they come.</summary>
internal sealed class NodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();

    private NodeProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    public string Name { get; }
    public string Output { get { lock (_output) return _output.ToString(); } }
    public string Error { get { lock (_error) return _error.ToString(); } }
    public bool HasExited => _process.HasExited;

    public static NodeProcess Start(string name, string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "parallelnet.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["NO_COLOR"] = "1";
        foreach (var key in new[] { "PARALLELNET_CLUSTER_TOKEN", "PARALLELNET_ROLE", "PARALLELNET_LISTEN", "PARALLELNET_SEEDS" }) start.Environment.Remove(key);
        var process = new Process { StartInfo = start };
        var node = new NodeProcess(name, process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (node._output) node._output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (node._error) node._error.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return node;
    }

    /// <summary>Waits until the node's log (stderr) contains <paramref name="text"/>.</summary>
    public async Task WaitForLogAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Error.Contains(text, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{Name} never logged '{text}'. Its log:\n{Error}");
            if (_process.HasExited) throw new InvalidOperationException($"{Name} exited ({_process.ExitCode}) before logging '{text}'. Its log:\n{Error}");
            await Task.Delay(50);
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{Name} did not exit within {timeout}. Its log:\n{Error}");
        }
        _process.WaitForExit(); // drains the output readers
        return _process.ExitCode;
    }

    /// <summary>The weights_sha256 of the job summary the coordinator printed.</summary>
    public string SummaryHash()
    {
        var summary = Output.Split('\n').LastOrDefault(l => l.Contains("\"event\":\"summary\"", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"{Name} printed no summary. Output:\n{Output}\nLog:\n{Error}");
        return System.Text.Json.JsonDocument.Parse(summary).RootElement.GetProperty("weights_sha256").GetString()!;
    }

    /// <summary>SIGKILL: no goodbye to the cluster, as when a machine dies.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _process.Dispose();
    }
}

using System.Collections;
using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace ParallelNet.Cli.Commands.Node;

/// <summary>
/// The settings of one cluster node (`parallelnet node`). Each comes from, in order of precedence, its
/// flag (<c>--cluster-token</c>), its environment variable (<c>PARALLELNET_CLUSTER_TOKEN</c>), the YAML
/// config file (<c>cluster-token: ...</c>), or its default. <see cref="Keys"/> lists every name.
/// </summary>
public sealed record NodeSettings
{
    public const string EnvironmentPrefix = "PARALLELNET_";

    /// <summary>Every setting: the config-file key; the flag is "--" + key, the variable PARALLELNET_ + KEY with '-' as '_'.</summary>
    public static readonly IReadOnlyList<string> Keys =
    [
        "role", "listen", "advertise", "seeds", "cluster-token", "job-token", "data-dir", "checkpoint-dir", "device", "threads",
        "min-workers", "max-workers", "worker-wait-seconds", "heartbeat-seconds", "unreachable-after-seconds", "removed-after-seconds",
        "shared-memory", "shared-memory-mib", "yield-between-layers",
    ];

    public required string Role { get; init; }
    public string ListenHost { get; init; } = "0.0.0.0";
    public int ListenPort { get; init; } = 7070;
    /// <summary>The host other nodes dial to reach this one (a container's service name); null: the listen host, or the machine name for 0.0.0.0.</summary>
    public string? Advertise { get; init; }
    public IReadOnlyList<string> Seeds { get; init; } = [];
    public string ClusterToken { get; init; } = "";
    /// <summary>The bearer token (admin) of the JobService the coordinator serves; needed when it listens beyond loopback.</summary>
    public string? JobToken { get; init; }
    public string? DataDir { get; init; }
    public string CheckpointDir { get; init; } = "checkpoints";
    public string Device { get; init; } = "cpu";
    /// <summary>Kernel threads of this node's worker; 0 = every core.</summary>
    public int Threads { get; init; }
    public int MinWorkers { get; init; } = 1;
    public int MaxWorkers { get; init; } = 256;
    public TimeSpan WorkerWait { get; init; } = TimeSpan.FromMinutes(2);
    public TimeSpan Heartbeat { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan UnreachableAfter { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan RemovedAfter { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>"auto": large payloads to nodes on the same host go through a shared-memory ring; "off": always the stream.</summary>
    public bool SharedMemory { get; init; } = true;
    /// <summary>MiB of each shared-memory ring this node offers (1-1024).</summary>
    public int SharedMemoryMib { get; init; } = 64;
    /// <summary>"on": a worker's compute thread offers its core to other threads between layers (see WorkerHostSettings.YieldBetweenLayers); "off": it does not.</summary>
    public bool YieldBetweenLayers { get; init; } = true;

    public bool IsCoordinator => Role == "coordinator";

    public static string EnvironmentName(string key) => EnvironmentPrefix + key.ToUpperInvariant().Replace('-', '_');

    /// <summary>
    /// Merges the three sources. <paramref name="flags"/> holds the flags given on the command line (by key);
    /// <paramref name="environment"/> the process environment; <paramref name="configFile"/> is optional.
    /// </summary>
    public static NodeSettings Resolve(IReadOnlyDictionary<string, string> flags, IDictionary environment, string? configFile)
    {
        var file = configFile is null ? new Dictionary<string, string>() : ReadFile(configFile);
        string? Get(string key)
        {
            if (flags.TryGetValue(key, out var f)) return f;
            if (environment[EnvironmentName(key)] is string e && e.Length > 0) return e;
            return file.TryGetValue(key, out var v) ? v : null;
        }

        string role = Get("role") ?? throw new UsageException($"the node's role is not set: give --role coordinator|worker, {EnvironmentName("role")}, or 'role:' in the config file.");
        if (role is not ("coordinator" or "worker")) throw new UsageException($"unknown role '{role}': use coordinator or worker.");
        var defaults = new NodeSettings { Role = role };
        var (host, port) = Get("listen") is { } listen ? ParseEndpoint(listen, "listen") : (defaults.ListenHost, defaults.ListenPort);
        var seeds = (Get("seeds") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var seed in seeds) ParseEndpoint(seed, "seeds");
        var settings = new NodeSettings
        {
            Role = role,
            ListenHost = host,
            ListenPort = port,
            Advertise = Get("advertise"),
            Seeds = seeds,
            ClusterToken = Get("cluster-token") ?? "",
            JobToken = Get("job-token"),
            DataDir = Get("data-dir"),
            CheckpointDir = Get("checkpoint-dir") ?? defaults.CheckpointDir,
            Device = Get("device") ?? defaults.Device,
            Threads = Integer(Get("threads"), "threads", defaults.Threads, 0),
            MinWorkers = Integer(Get("min-workers"), "min-workers", defaults.MinWorkers, 1),
            MaxWorkers = Integer(Get("max-workers"), "max-workers", defaults.MaxWorkers, 1),
            WorkerWait = Seconds(Get("worker-wait-seconds"), "worker-wait-seconds", defaults.WorkerWait),
            Heartbeat = Seconds(Get("heartbeat-seconds"), "heartbeat-seconds", defaults.Heartbeat),
            UnreachableAfter = Seconds(Get("unreachable-after-seconds"), "unreachable-after-seconds", defaults.UnreachableAfter),
            RemovedAfter = Seconds(Get("removed-after-seconds"), "removed-after-seconds", defaults.RemovedAfter),
            SharedMemory = Get("shared-memory") switch
            {
                null or "auto" => true,
                "off" => false,
                var other => throw new UsageException($"shared-memory must be auto or off, got '{other}'."),
            },
            SharedMemoryMib = Integer(Get("shared-memory-mib"), "shared-memory-mib", defaults.SharedMemoryMib, 1),
            YieldBetweenLayers = Get("yield-between-layers") switch
            {
                null or "on" => true,
                "off" => false,
                var other => throw new UsageException($"yield-between-layers must be on or off, got '{other}'."),
            },
        };
        if (settings.SharedMemoryMib > 1024) throw new UsageException($"shared-memory-mib must be at most 1024, got {settings.SharedMemoryMib}.");
        if (settings.MaxWorkers < settings.MinWorkers) throw new UsageException($"max-workers ({settings.MaxWorkers}) is below min-workers ({settings.MinWorkers}).");
        if (!(settings.Heartbeat < settings.UnreachableAfter && settings.UnreachableAfter < settings.RemovedAfter))
            throw new UsageException($"need heartbeat-seconds < unreachable-after-seconds < removed-after-seconds, got {settings.Heartbeat.TotalSeconds}, {settings.UnreachableAfter.TotalSeconds}, {settings.RemovedAfter.TotalSeconds}.");
        return settings;
    }

    /// <summary>"HOST:PORT" (the port 0-65535; 0 picks a free one).</summary>
    public static (string Host, int Port) ParseEndpoint(string text, string setting)
    {
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
            throw new UsageException($"{setting}: '{text}' is not HOST:PORT (e.g. 127.0.0.1:7070).");
        return (text[..colon], port);
    }

    /// <summary>A flat YAML mapping of the keys above; a list (seeds) becomes a comma-separated value.</summary>
    public static Dictionary<string, string> ReadFile(string path)
    {
        if (!File.Exists(path)) throw new UsageException($"config file '{path}' does not exist.");
        var yaml = new YamlStream();
        try
        {
            using var reader = new StreamReader(path);
            yaml.Load(reader);
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new UsageException($"config file '{path}' is not valid YAML: {e.Message}");
        }
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (yaml.Documents.Count == 0) return values;
        if (yaml.Documents[0].RootNode is not YamlMappingNode root) throw new UsageException($"config file '{path}' must be a mapping of settings (key: value).");
        foreach (var (keyNode, valueNode) in root.Children)
        {
            string key = ((YamlScalarNode)keyNode).Value ?? "";
            if (!Keys.Contains(key)) throw new UsageException($"config file '{path}': unknown setting '{key}'; known settings: {string.Join(", ", Keys)}.");
            values[key] = valueNode switch
            {
                YamlScalarNode scalar => scalar.Value ?? "",
                YamlSequenceNode list => string.Join(',', list.Children.Select(c => (c as YamlScalarNode)?.Value ?? throw new UsageException($"config file '{path}': '{key}' must be a list of plain values."))),
                _ => throw new UsageException($"config file '{path}': '{key}' must be a value or a list."),
            };
        }
        return values;
    }

    private static int Integer(string? text, string key, int fallback, int minimum)
    {
        if (text is null) return fallback;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < minimum)
            throw new UsageException($"{key} must be an integer >= {minimum}, got '{text}'.");
        return value;
    }

    private static TimeSpan Seconds(string? text, string key, TimeSpan fallback)
    {
        if (text is null) return fallback;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !(value > 0) || value > 86_400)
            throw new UsageException($"{key} must be a positive number of seconds, got '{text}'.");
        return TimeSpan.FromSeconds(value);
    }
}

using Microsoft.Extensions.Logging;
using ParallelNet.Actors;

namespace ParallelNet.Cluster.Tests.Support;

/// <summary>Starts in-process nodes on loopback and waits for cluster states.</summary>
internal static class Nodes
{
    public const string Token = "test-token";

    public static ClusterNodeOptions Options(string system, ILoggerFactory? logs = null, TimeProvider? clock = null, int port = 0, params string[] seeds)
    {
        var options = new ClusterNodeOptions { SystemName = system, Port = port, ClusterToken = Token, LoggerFactory = logs };
        if (clock is not null) options.TimeProvider = clock;
        foreach (string seed in seeds) options.Seeds.Add(seed);
        options.Serializers.Register<string>("test.string", (w, s) => w.WriteString(s), r => r.ReadString()!);
        options.Serializers.Register<Numbered>("test.Numbered", (w, n) => w.WriteInt32(n.Value), r => new Numbered(r.ReadInt32()));
        return options;
    }

    public static string SeedOf(ClusterNode node) => $"127.0.0.1:{node.Port}";

    /// <summary>Polls <paramref name="condition"/> until it holds; fails the test after <paramref name="wait"/>.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? wait = null)
    {
        var deadline = DateTime.UtcNow + (wait ?? TimeSpan.FromSeconds(20));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out waiting until {what}.");
            await Task.Delay(20);
        }
    }

    /// <summary>Moves <paramref name="clock"/> on a second at a time (letting the network work in between) until <paramref name="condition"/> holds.</summary>
    public static async Task AdvanceUntilAsync(ParallelNet.Testing.ManualTimeProvider clock, Func<bool> condition, string what, int maxSeconds = 60)
    {
        for (int i = 0; i < maxSeconds && !condition(); i++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            await WaitUntilAsync(condition, what, TimeSpan.FromMilliseconds(300)).ContinueWith(_ => { }, TaskScheduler.Default);
        }
        if (!condition()) throw new TimeoutException($"Timed out waiting until {what} ({maxSeconds} s of manual time).");
    }

    public static Task WaitForMembersAsync(ClusterNode node, int count) =>
        WaitUntilAsync(() => node.Members.Count == count, $"{node.SelfAddress} has {count} members (has {node.Members.Count})");

    /// <summary>Forms a cluster of the given nodes through the first one and waits until all see each other.</summary>
    public static async Task<ClusterNode[]> StartClusterAsync(int count, string prefix, ILoggerFactory? logs = null, Action<ClusterNodeOptions>? configure = null)
    {
        var nodes = new ClusterNode[count];
        ClusterNodeOptions first = Options(prefix + "0", logs);
        configure?.Invoke(first);
        nodes[0] = await ClusterNode.StartAsync(first);
        for (int i = 1; i < count; i++)
        {
            ClusterNodeOptions options = Options(prefix + i, logs, seeds: SeedOf(nodes[0]));
            configure?.Invoke(options);
            nodes[i] = await ClusterNode.StartAsync(options);
        }
        foreach (ClusterNode node in nodes) await WaitForMembersAsync(node, count - 1);
        return nodes;
    }

    public static async Task DisposeAllAsync(IEnumerable<ClusterNode> nodes)
    {
        foreach (ClusterNode node in nodes) await node.DisposeAsync();
    }
}

internal sealed record Numbered(int Value);

internal sealed record Squared(int Value);

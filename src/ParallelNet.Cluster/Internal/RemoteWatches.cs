using ParallelNet.Actors;

namespace ParallelNet.Cluster.Internal;

/// <summary>
/// Which local actors watch which actors on other nodes, so that when a node is removed every watcher
/// of its actors still gets its Terminated, even though the node itself can no longer say so.
/// </summary>
internal sealed class RemoteWatches
{
    private readonly Lock gate = new();
    private readonly Dictionary<Address, HashSet<(IActorRef Watchee, IActorRef Watcher)>> byNode = [];

    public void Add(IActorRef watchee, IActorRef watcher)
    {
        lock (gate)
        {
            if (!byNode.TryGetValue(watchee.Path.Address, out var watches)) byNode[watchee.Path.Address] = watches = [];
            watches.Add((watchee, watcher));
        }
    }

    public void Remove(IActorRef watchee, IActorRef watcher)
    {
        lock (gate)
        {
            if (byNode.TryGetValue(watchee.Path.Address, out var watches)) watches.Remove((watchee, watcher));
        }
    }

    /// <summary>Forgets and returns every watch of an actor on <paramref name="node"/>.</summary>
    public List<(IActorRef Watchee, IActorRef Watcher)> TakeAll(Address node)
    {
        lock (gate)
        {
            if (!byNode.Remove(node, out var watches)) return [];
            return [.. watches];
        }
    }
}

using ParallelNet.Actors;

namespace ParallelNet.Training.Actors.Internal;

/// <summary>The coordinator's record of one worker: its reference and its running totals for the activity reports.</summary>
internal sealed class WorkerSlot(int index, IActorRef actor)
{
    public int Index { get; } = index;
    public IActorRef Actor { get; } = actor;
    /// <summary>The actor's name, with its node for a remote worker (every node names its replica alike).</summary>
    public string Name => Actor.Path.Address.Host is { } host ? $"{Actor.Path.Name}@{host}:{Actor.Path.Address.Port}" : Actor.Path.Name;
    public bool Live { get; set; } = true;
    public long ShardsDone { get; set; }
    public long SamplesDone { get; set; }
    public double LastSamplesPerSecond { get; set; }
}

using ParallelNet.Actors;

namespace ParallelNet.Training.Actors.Internal;

/// <summary>The coordinator's record of one worker: its reference and its running totals for the activity reports.</summary>
internal sealed class WorkerSlot(int index, IActorRef actor)
{
    public int Index { get; } = index;
    public IActorRef Actor { get; } = actor;
    public string Name => Actor.Path.Name;
    public bool Live { get; set; } = true;
    public long ShardsDone { get; set; }
    public long SamplesDone { get; set; }
    public double LastSamplesPerSecond { get; set; }
}

using ParallelNet.Data;

namespace ParallelNet.Training.Actors.Internal;

/// <summary>
/// The step the coordinator is waiting for: its place in the epoch and who holds which block. The
/// blocks are fixed when the step is planned; a lost worker's blocks move to survivors unchanged,
/// so they still tile the reduction tree.
/// </summary>
internal sealed class StepInFlight(long step, int epoch, int batchStart, int batchCount, long startTimestamp)
{
    public long Step { get; } = step;
    public int Epoch { get; } = epoch;
    public int BatchStart { get; } = batchStart;
    public int BatchCount { get; } = batchCount;
    /// <summary>When the step became the one the job waits for (a step issued ahead starts counting then).</summary>
    public long StartTimestamp { get; set; } = startTimestamp;
    /// <summary>Blocks not yet reported done, by first shard, with the worker computing each.</summary>
    public Dictionary<int, (ShardBlock Block, WorkerSlot Worker)> Outstanding { get; } = [];
    /// <summary>True once a worker reported a block of this step done.</summary>
    public bool AnyBlockDone { get; set; }
    /// <summary>Bumped on every (re)issue, so a timeout armed for an earlier issue is recognized as outdated.</summary>
    public int Attempt { get; set; }
}

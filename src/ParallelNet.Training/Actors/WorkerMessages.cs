using ParallelNet.Actors;
using ParallelNet.Data;

namespace ParallelNet.Training.Actors;

// Messages to and from workers. They hold only plain data (ids, counters, host float buffers), so a
// transport can carry them over the network unchanged. The float[] buffers are lent, not copied: in process
// they go back to their owner with the IInProcessMessage releases below, and until then the lender leaves
// them alone: a published weights buffer stays unchanged until every subscriber has handed it back (workers read it
// in place); a gradient buffer passes to the parameter server, which may overwrite it (it averages and clips
// there) before handing it back.

/// <summary>
/// Command to a worker: compute the summed gradient of <paramref name="Block"/>'s virtual shards of
/// global step <paramref name="Step"/> (1-based) with weights version <paramref name="WeightsVersion"/>.
/// The step's batch is rows [BatchStart, BatchStart + BatchCount) of the epoch permutation, cut into
/// <paramref name="ShardCount"/> shards; the worker derives the permutation from the job's seed.
/// </summary>
public sealed record ComputeGradients(string JobId, int Epoch, long Step, long WeightsVersion, int BatchStart, int BatchCount, int ShardCount, ShardBlock Block);

/// <summary>
/// A worker's result for one block, sent to the parameter server: the block's gradient reduced along
/// the fixed tree, its dense slots back to back in layout order in <paramref name="GradientSum"/> and each
/// row-sparse slot (embedding table, in layout order) as the rows it touched in <paramref name="SparseRows"/>
/// (never the whole table), and each shard's summed loss, in shard order.
/// </summary>
public sealed record GradientsComputed(string JobId, long Step, long WeightsVersion, int BatchCount, int ShardCount, ShardBlock Block,
    ReadOnlyMemory<float> GradientSum, SparseGradient[] SparseRows, double[] ShardLosses);

/// <summary>
/// In process only: the parameter server is done with a <see cref="GradientsComputed.GradientSum"/> buffer (its
/// contents are then undefined: it may have served as the optimizer's gradient) and hands it back to the worker that
/// lent it, which reuses it for a later block instead of allocating megabytes per step.
/// </summary>
public sealed record GradientBufferReleased(string JobId, ReadOnlyMemory<float> Buffer) : IInProcessMessage;

/// <summary>
/// Room a transport offers a worker for a block's gradient sum, from where it sends the sum without copying it (a
/// same-host shared-memory ring). <paramref name="Release"/> gives the room back once the message has been sent (it
/// does nothing if the transport took the room for the message) or when it will not be.
/// </summary>
public sealed record ReservedBuffer(Memory<float> Values, Action Release);

/// <summary>Room for <paramref name="count"/> floats to send to <paramref name="recipient"/>, or null (the worker then uses an array).</summary>
public delegate ReservedBuffer? ReserveBuffer(IActorRef recipient, int count);

/// <summary>
/// In process only: a subscriber hands back a <see cref="WeightsPublished.Weights"/> buffer it no longer needs. Once
/// every subscriber it went to has, the parameter server may update it in place (the current version's buffer is
/// its master) or reuse it for a later version; while one has not, the buffer stays as published. A worker on the
/// host reads the buffer in place and hands it back just before it sends its block of the next step, or at once when
/// it has no block of that step yet (the server cannot update the buffer before that step's last block is in); a
/// remote worker's node, when the next version arrives; a device worker, once it has copied it.
/// </summary>
public sealed record WeightsBufferReleased(string JobId, float[] Buffer) : IInProcessMessage;

/// <summary>Sent to the coordinator once a block's gradients are on their way to the parameter server: the worker's activity report.</summary>
public sealed record BlockCompleted(string JobId, long Step, ShardBlock Block, int Samples, double Seconds);

/// <summary>A worker asks the parameter server for the current weights and every later version.</summary>
public sealed record SubscribeToWeights(string JobId);

/// <summary>The parameter server's weights after version <paramref name="Version"/> steps: every layout slot, running statistics included.</summary>
public sealed record WeightsPublished(string JobId, long Version, float[] Weights);

/// <summary>
/// <see cref="WeightsPublished"/> as a transport delivers it from another process: the values stay where they arrived (a
/// shared-memory region lent in place, or the transport's pooled copy) and the worker's replica reads them there, with no
/// copy of its own. They must only be read. <paramref name="Release"/> hands them back: the worker calls it once it
/// holds a later version (or stops, or finds the weights stale), and the transport may then reuse that memory.
/// </summary>
public sealed record WeightsArrived(string JobId, long Version, ReadOnlyMemory<float> Weights, Action Release);

/// <summary>
/// <see cref="GradientsComputed"/> as a transport delivers it from another process: the dense gradient sum stays where it
/// arrived (a shared-memory region lent in place, or the transport's pooled copy) and the parameter server combines it
/// from there, only reading it. <paramref name="Release"/> hands it back once the server is done with it.
/// </summary>
public sealed record GradientsArrived(string JobId, long Step, long WeightsVersion, int BatchCount, int ShardCount, ShardBlock Block,
    ReadOnlyMemory<float> GradientSum, SparseGradient[] SparseRows, double[] ShardLosses, Action Release);

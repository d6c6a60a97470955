using ParallelNet.Actors;
using ParallelNet.Data;
using ParallelNet.NN;
using ParallelNet.NN.Optimizers;
using ParallelNet.Tensors;

namespace ParallelNet.Training.Actors;

/// <summary>
/// Holds the master weights and the optimizer state. It collects the gradient blocks of the next
/// step (version + 1), and once they tile all virtual shards combines them along the fixed tree,
/// adds the L2 term, lets the optimizer average, check for NaN/Inf and apply, bumps the version and
/// broadcasts the weights to its subscribers. Blocks of another step or version, and duplicates of a
/// block it already holds (a reissued block computed twice), are dropped.
/// </summary>
public sealed class ParameterServer : ReceiveActor
{
    private readonly string _jobId;
    private readonly TrainingOptions _options;
    private readonly DataSplit _data;
    private readonly long _totalSteps;
    private readonly Model _model;
    private readonly Optimizer _optimizer;
    private readonly Tensor _gradients;
    private readonly HashSet<IActorRef> _subscribers = [];
    private readonly SortedDictionary<int, GradientsComputed> _blocks = [];
    private readonly float[]?[] _combineScratch;
    private long _version;
    private int _shardsReceived;
    private float[] _published = [];

    private ParameterServer(string jobId, TrainingOptions options, DataSplit data, ICompute compute, long totalSteps, TrainingCheckpoint? resumeFrom)
    {
        _jobId = jobId;
        _options = options;
        _data = data;
        _totalSteps = totalSteps;
        _model = Model.Create(options.Model, compute, Evaluation.ChunkSize);
        _optimizer = new Optimizer(options.Optimizer, _model.Layout, compute);
        _gradients = compute.Allocate(new Shape(_model.Layout.TotalSize));
        _combineScratch = new float[]?[options.VirtualShards];
        if (resumeFrom is null)
        {
            _model.Initialize(options.Seed);
        }
        else
        {
            resumeFrom.ApplyTo(_model, _optimizer);
            _version = resumeFrom.Progress.Version;
        }
        Publish();

        Receive<SubscribeToWeights>(OnSubscribe, m => m.JobId == _jobId);
        Receive<GradientsComputed>(OnGradients, m => m.JobId == _jobId);
        Receive<EvaluateWeights>(_ => Evaluate(), m => m.JobId == _jobId);
        Receive<CaptureCheckpoint>(m => Sender.Tell(new CheckpointCaptured(_jobId,
            TrainingCheckpoint.Capture(_options, _data.Normalization, _model, _optimizer, m.Progress, _jobId)), Self), m => m.JobId == _jobId);
        Receive<ReportWeightsHash>(_ => Sender.Tell(new WeightsHashReported(_jobId, _version, WeightsHash.Sha256(_published)), Self), m => m.JobId == _jobId);
        Receive<Terminated>(t => _subscribers.Remove(t.ActorRef));
    }

    /// <param name="totalSteps">The job's planned number of steps (drives the cosine schedule).</param>
    /// <param name="resumeFrom">Start from this checkpoint's weights, optimizer state and version instead of the seed's initialization.</param>
    public static Props Props(string jobId, TrainingOptions options, DataSplit data, ICompute compute, long totalSteps, TrainingCheckpoint? resumeFrom = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(compute);
        ArgumentOutOfRangeException.ThrowIfNegative(totalSteps);
        return ParallelNet.Actors.Props.Create(() => new ParameterServer(jobId, options, data, compute, totalSteps, resumeFrom));
    }

    private void OnSubscribe(SubscribeToWeights _)
    {
        if (_subscribers.Add(Sender)) Context.Watch(Sender);
        Sender.Tell(new WeightsPublished(_jobId, _version, _published), Self);
    }

    private void OnGradients(GradientsComputed block)
    {
        if (block.Step != _version + 1 || block.WeightsVersion != _version) return; // stale: that step is already applied
        if (block.GradientSum.Length != _model.Layout.TotalSize || block.ShardLosses.Length != block.Block.ShardCount
            || block.ShardCount != _options.VirtualShards || block.BatchCount <= 0)
            throw new TrainingException($"A gradient block of step {block.Step} does not fit the job: {block.GradientSum.Length} values for {_model.Layout.TotalSize} parameters, " +
                $"{block.ShardLosses.Length} losses for {block.Block.ShardCount} shards, {block.ShardCount} virtual shards for the job's {_options.VirtualShards}.");
        ShardPlan.ValidateBlock(block.Block, block.ShardCount);
        foreach (var held in _blocks.Values)
        {
            bool overlaps = block.Block.FirstShard < held.Block.EndShard && held.Block.FirstShard < block.Block.EndShard;
            if (!overlaps) continue;
            if (held.Block == block.Block) return; // the same block computed twice after a reissue: bitwise equal, keep one
            throw new TrainingException($"Gradient blocks [{held.Block.FirstShard}, {held.Block.EndShard}) and [{block.Block.FirstShard}, {block.Block.EndShard}) of step {block.Step} overlap; the coordinator must keep a step's blocks when it reissues them.");
        }
        _blocks.Add(block.Block.FirstShard, block);
        _shardsReceived += block.Block.ShardCount;
        if (_shardsReceived == _options.VirtualShards) Apply();
    }

    private void Apply()
    {
        var blocks = _blocks.Values.ToList();
        _blocks.Clear();
        _shardsReceived = 0;
        long step = _version + 1;
        int batchCount = blocks[0].BatchCount;
        if (blocks.Any(b => b.BatchCount != batchCount))
            throw new TrainingException($"The gradient blocks of step {step} disagree on the batch size.");

        // The loss is summed shard by shard in shard order, as the plain loop does.
        double lossSum = 0;
        foreach (var b in blocks)
            foreach (double loss in b.ShardLosses) lossSum += loss;

        if (blocks.Count == 1)
        {
            _model.Compute.Upload(blocks[0].GradientSum, _gradients);
        }
        else
        {
            // Combining overwrites its buffers and a received float[] stays untouched, so it runs in
            // scratch buffers kept across steps (one per block position, no allocation per step).
            var sums = new Memory<float>[blocks.Count];
            for (int k = 0; k < blocks.Count; k++)
            {
                _combineScratch[k] ??= new float[_model.Layout.TotalSize];
                blocks[k].GradientSum.CopyTo(_combineScratch[k]!, 0);
                sums[k] = _combineScratch[k];
            }
            ReductionTree.CombineBlocksInPlace(_options.VirtualShards, blocks.Select(b => b.Block).ToArray(), sums);
            _model.Compute.Upload(sums[0].Span, _gradients);
        }

        // The optimizer divides by the batch size, so the per-step L2 gradient lambda*W enters scaled by it.
        _model.ApplyL2(_model.Parameters, _gradients, _options.Model.L2 * batchCount);
        var outcome = _optimizer.Step(_model.Parameters, _gradients, batchCount, _totalSteps);
        if (outcome.Applied || _options.SkipNonFiniteSteps)
        {
            _version = step;
            if (outcome.Applied) Publish(); // a skipped step republishes the unchanged weights under the new version
            foreach (var subscriber in _subscribers) subscriber.Tell(new WeightsPublished(_jobId, _version, _published), Self);
        }
        Context.Parent.Tell(new StepApplied(_jobId, step, _version, outcome.Applied, outcome.Rejection, lossSum, batchCount), Self);
    }

    private void Evaluate()
    {
        var (loss, accuracy) = Evaluation.Run(_model, _data.Test);
        Sender.Tell(new WeightsEvaluated(_jobId, _version, loss, accuracy), Self);
    }

    private void Publish()
    {
        // A fresh array each version: the previous one may still be in flight to a worker.
        _published = GC.AllocateUninitializedArray<float>(_model.Layout.TotalSize);
        _model.Compute.Download(_model.Parameters, _published);
    }
}

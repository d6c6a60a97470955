using ParallelNet.Actors;
using ParallelNet.Data;
using ParallelNet.NN;
using ParallelNet.NN.Optimizers;
using ParallelNet.Tensors;
using ParallelNet.Training.Actors.Internal;

namespace ParallelNet.Training.Actors;

/// <summary>
/// Holds the master weights and the optimizer state. It collects the gradient blocks of the next
/// step (version + 1), and once they tile all virtual shards combines them along the fixed tree,
/// adds the L2 term, lets the optimizer average, check for NaN/Inf and apply (without L2 on a host backend in two passes,
/// see <see cref="AveragedGradientStep"/>), bumps the version and
/// broadcasts the weights to its subscribers: on a host backend the master buffer itself, lent (see
/// <see cref="WeightsBufferReleased"/>), so that a step copies the weights nowhere while every reader hands
/// its loan back before the step's last block arrives, as in-process workers do. Blocks of another step or version, and duplicates of a
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
    private readonly SortedDictionary<int, HeldBlock> _blocks = [];
    private readonly GradientPacking _packing;
    private readonly float[]?[] _combineScratch;
    private readonly WeightsLending _lending = new();
    private readonly Dictionary<float[], Tensor> _hostTensors = new(ReferenceEqualityComparer.Instance);
    private readonly bool _yieldBeforeApply;
    private long _version;
    private int _shardsReceived;
    // The weights of the current version as published. On a host backend it is also the master the model reads and
    // the optimizer updates (in place when no reader holds it any more, see PrepareMasterForUpdate).
    private float[] _published = [];
    private readonly bool _publishesMaster;
    // Combine and step on a host backend without L2. The workers wait while the server combines and updates: its
    // backend's threads share the combine too.
    private readonly AveragedGradientStep _averagedStep;
    // The optimizer's gradient on a host backend, where the combine writes the step's total: received blocks are only read.
    private readonly float[]? _gradientTotal;

    private ParameterServer(string jobId, TrainingOptions options, DataSplit data, ICompute compute, long totalSteps, TrainingCheckpoint? resumeFrom,
        bool yieldBeforeApply)
    {
        _yieldBeforeApply = yieldBeforeApply;
        _jobId = jobId;
        _options = options;
        _data = data;
        _totalSteps = totalSteps;
        _model = Model.Create(options.Model, compute, Evaluation.ChunkSize);
        _optimizer = new Optimizer(options.Optimizer, _model.Layout, compute);
        _gradients = compute.Allocate(new Shape(_model.Layout.TotalSize));
        _gradientTotal = _gradients.Storage is HostStorage host ? host.Data : null;
        _packing = new GradientPacking(_model.Layout);
        _combineScratch = new float[]?[options.VirtualShards];
        _averagedStep = new AveragedGradientStep(_optimizer, compute is ParallelNet.Tensors.Cpu.CpuCompute cpu ? cpu.Threads : 1);
        if (resumeFrom is null)
        {
            _model.Initialize(options.Seed);
        }
        else
        {
            resumeFrom.ApplyTo(_model, _optimizer);
            _version = resumeFrom.Progress.Version;
        }
        _publishesMaster = _model.Parameters.IsHost && _model.Layout.TotalSize > 0;
        if (_publishesMaster) MoveMasterTo(_lending.Rent(_model.Layout.TotalSize));
        else Publish();

        Receive<SubscribeToWeights>(OnSubscribe, m => m.JobId == _jobId);
        Receive<GradientsComputed>(OnGradients, m => m.JobId == _jobId);
        Receive<GradientsArrived>(OnGradients, m => m.JobId == _jobId);
        Receive<EvaluateWeights>(_ => Evaluate(), m => m.JobId == _jobId);
        Receive<CaptureCheckpoint>(m => Sender.Tell(new CheckpointCaptured(_jobId,
            TrainingCheckpoint.Capture(_options, _data.Normalization, _model, _optimizer, m.Progress, _jobId)), Self), m => m.JobId == _jobId);
        Receive<ReportWeightsHash>(_ => Sender.Tell(new WeightsHashReported(_jobId, _version, WeightsHash.Sha256(_published)), Self), m => m.JobId == _jobId);
        Receive<WeightsBufferReleased>(m => _lending.Return(m.Buffer, _published), m => m.JobId == _jobId);
        Receive<Terminated>(t => _subscribers.Remove(t.ActorRef));
        Receive<ApplyDue>(due => { if (due.Step == _version + 1 && _shardsReceived == _options.VirtualShards) Apply(); });
    }

    /// <param name="totalSteps">The job's planned number of steps (drives the cosine schedule).</param>
    /// <param name="resumeFrom">Start from this checkpoint's weights, optimizer state and version instead of the seed's initialization.</param>
    /// <param name="yieldBeforeApply">
    /// On the .NET thread pool: once a step's last block is in, hand the thread back to the pool once before applying
    /// it, so that work already queued there (the coordinator's) runs first; about 10 microseconds a step. A message
    /// that arrives meanwhile sees the weights before the update (the coordinator asks for evaluations, checkpoints
    /// and hashes only after <see cref="StepApplied"/>).
    /// </param>
    public static Props Props(string jobId, TrainingOptions options, DataSplit data, ICompute compute, long totalSteps, TrainingCheckpoint? resumeFrom = null,
        bool yieldBeforeApply = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(compute);
        ArgumentOutOfRangeException.ThrowIfNegative(totalSteps);
        return ParallelNet.Actors.Props.Create(() => new ParameterServer(jobId, options, data, compute, totalSteps, resumeFrom, yieldBeforeApply));
    }

    private void OnSubscribe(SubscribeToWeights _)
    {
        if (_subscribers.Add(Sender)) Context.Watch(Sender);
        _lending.Lend(_published, _version, 1);
        Sender.Tell(new WeightsPublished(_jobId, _version, _published), Self);
    }

    private void OnGradients(GradientsComputed block)
    {
        // In process the buffer goes back to its worker, which reuses it for a later block.
        var (owner, self) = (Sender, Self);
        OnGradients(new HeldBlock(block.Step, block.WeightsVersion, block.BatchCount, block.ShardCount, block.Block, block.GradientSum, block.SparseRows, block.ShardLosses,
            () => owner.Tell(new GradientBufferReleased(_jobId, block.GradientSum), self)));
    }

    private void OnGradients(GradientsArrived block) => OnGradients(new HeldBlock(block.Step, block.WeightsVersion, block.BatchCount, block.ShardCount, block.Block,
        block.GradientSum, block.SparseRows, block.ShardLosses, block.Release));

    private void OnGradients(HeldBlock block)
    {
        if (block.Step != _version + 1 || block.WeightsVersion != _version)
        {
            block.Release(); // stale: that step is already applied
            return;
        }
        if (block.Sum.Length != _packing.DenseLength || block.SparseRows is null || block.ShardLosses.Length != block.Block.ShardCount
            || block.ShardCount != _options.VirtualShards || block.BatchCount <= 0)
        {
            block.Release();
            throw new TrainingException($"A gradient block of step {block.Step} does not fit the job: {block.Sum.Length} dense values for {_packing.DenseLength}, " +
                $"{block.ShardLosses.Length} losses for {block.Block.ShardCount} shards, {block.ShardCount} virtual shards for the job's {_options.VirtualShards}.");
        }
        ShardPlan.ValidateBlock(block.Block, block.ShardCount);
        foreach (var held in _blocks.Values)
        {
            bool overlaps = block.Block.FirstShard < held.Block.EndShard && held.Block.FirstShard < block.Block.EndShard;
            if (!overlaps) continue;
            block.Release();
            // The same block computed twice after a reissue: bitwise equal, keep one.
            if (held.Block == block.Block) return;
            throw new TrainingException($"Gradient blocks [{held.Block.FirstShard}, {held.Block.EndShard}) and [{block.Block.FirstShard}, {block.Block.EndShard}) of step {block.Step} overlap; the coordinator must keep a step's blocks when it reissues them.");
        }
        HopTrace.Mark("ps.block", block.Step);
        _blocks.Add(block.Block.FirstShard, block);
        _shardsReceived += block.Block.ShardCount;
        if (_shardsReceived != _options.VirtualShards) return;
        if (_yieldBeforeApply)
        {
            // The combine and step take every core for a moment: a coordinator message already queued (the first
            // BlockCompleted, which issues the next step ahead) runs first, or the next step's commands would leave
            // after its weights and hold the workers up (bench cluster counts such block starts).
            var (self, step) = (Self, _version + 1);
            ThreadPool.UnsafeQueueUserWorkItem<object?>(_ => self.Tell(new ApplyDue(step), self), null, preferLocal: false);
        }
        else Apply();
    }

    /// <summary>The step's blocks are all in: apply it now, unless that happened meanwhile.</summary>
    private sealed record ApplyDue(long Step) : IInProcessMessage;

    /// <summary>A gradient block waiting for the rest of its step, however it came (lent in process, or received), and how to hand it back.</summary>
    private sealed record HeldBlock(long Step, long WeightsVersion, int BatchCount, int ShardCount, ShardBlock Block,
        ReadOnlyMemory<float> Sum, SparseGradient[] SparseRows, double[] ShardLosses, Action Release);

    private void Apply()
    {
        HopTrace.Mark("ps.apply", _version + 1);
        long step = _version + 1;
        StepOutcome outcome;
        double lossSum;
        int batchCount;
        var blocks = _blocks.Values.ToArray();
        _blocks.Clear();
        _shardsReceived = 0;
        try
        {
            outcome = Step(blocks, step, out lossSum, out batchCount);
        }
        catch
        {
            foreach (var block in blocks) block.Release();
            throw;
        }
        if (outcome.Applied || _options.SkipNonFiniteSteps)
        {
            _version = step;
            // A skipped step republishes the unchanged weights under the new version.
            if (outcome.Applied && !_publishesMaster) Publish();
            _lending.Lend(_published, _version, _subscribers.Count);
            HopTrace.Mark("ps.published", _version + 1);
            // One message for all: a transport that reaches several subscribers on one host may then copy it once.
            var published = new WeightsPublished(_jobId, _version, _published);
            foreach (var subscriber in _subscribers) subscriber.Tell(published, Self);
        }
        // After the broadcast: handing a received block back costs the server's thread a little, and nobody waits for it.
        foreach (var block in blocks) block.Release();
        Context.Parent.Tell(new StepApplied(_jobId, step, _version, outcome.Applied, outcome.Rejection, lossSum, batchCount), Self);
    }

    /// <summary>Combines the step's blocks (only reading them) and lets the optimizer apply the total; the loss sum and batch size for the report.</summary>
    private StepOutcome Step(HeldBlock[] blocks, long step, out double lossSum, out int batchCount)
    {
        batchCount = blocks[0].BatchCount;
        int batch = batchCount;
        if (blocks.Any(b => b.BatchCount != batch))
            throw new TrainingException($"The gradient blocks of step {step} disagree on the batch size.");

        // The loss is summed shard by shard in shard order, as the plain loop does.
        lossSum = 0;
        foreach (var b in blocks)
            foreach (double loss in b.ShardLosses) lossSum += loss;

        var sums = new ReadOnlyMemory<float>[blocks.Length];
        for (int k = 0; k < blocks.Length; k++) sums[k] = blocks[k].Sum;
        if (!_packing.HasSparse && _gradientTotal is not null && _options.Model.L2 == 0f)
        {
            // The blocks' tree sum, divided by the batch size, in one pass over the blocks into the optimizer's gradient.
            // Without an L2 term the division can come first: the L2 gradient joins the sum before it. The combine also
            // looks for NaN and Inf (and with clipping clamps and measures), so the step skips those passes.
            _averagedStep.Combine(_options.VirtualShards, BlocksOf(blocks), sums, _gradientTotal, 1f / batchCount);
            HopTrace.Mark("ps.combined", step);
            PrepareMasterForUpdate();
            var averaged = _averagedStep.Step(_model.Parameters, _gradients, batchCount, _totalSteps);
            HopTrace.Mark("ps.stepped", step);
            return averaged;
        }
        if (!_packing.HasSparse && _gradientTotal is not null)
        {
            // Straight from the blocks (only read) into the optimizer's gradient tensor.
            ReductionTree.CombineBlocks(_options.VirtualShards, BlocksOf(blocks), sums, _gradientTotal, _combineScratch);
        }
        else
        {
            // Unpacking overwrites its buffers and a received block stays untouched, so it runs in
            // scratch buffers kept across steps (one per block position, no allocation per step).
            var unpacked = new Memory<float>[blocks.Length];
            for (int k = 0; k < blocks.Length; k++)
            {
                _combineScratch[k] ??= new float[_model.Layout.TotalSize];
                _packing.Unpack(blocks[k].Sum.Span, blocks[k].SparseRows, _combineScratch[k]);
                unpacked[k] = _combineScratch[k];
            }
            if (blocks.Length > 1) ReductionTree.CombineBlocksInPlace(_options.VirtualShards, BlocksOf(blocks), unpacked);
            _model.Compute.Upload(unpacked[0].Span, _gradients);
        }

        PrepareMasterForUpdate();
        // The optimizer divides by the batch size, so the per-step L2 gradient lambda*W enters scaled by it.
        _model.ApplyL2(_model.Parameters, _gradients, _options.Model.L2 * batchCount);
        return _optimizer.Step(_model.Parameters, _gradients, batchCount, _totalSteps);
    }

    private static ShardBlock[] BlocksOf(HeldBlock[] blocks)
    {
        var shardBlocks = new ShardBlock[blocks.Length];
        for (int k = 0; k < blocks.Length; k++) shardBlocks[k] = blocks[k].Block;
        return shardBlocks;
    }

    /// <summary>A master buffer as a tensor, the same wrapper each time it comes back, so the views made of it (optimizer, model) are reused.</summary>
    private Tensor HostTensor(float[] buffer)
    {
        if (_hostTensors.TryGetValue(buffer, out var tensor)) return tensor;
        // Buffers retired for good (the lending pool lets go of some) are dropped rather than kept.
        if (_hostTensors.Count >= MaxHostTensors) _hostTensors.Clear();
        return _hostTensors[buffer] = Tensor.FromArray(buffer, new Shape(buffer.Length));
    }

    private const int MaxHostTensors = 16;

    /// <summary>
    /// Before the optimizer writes the master: if the published buffer is still lent (a worker without a block in
    /// this step, a remote send not yet on the wire) the master moves to a free copy, and the readers keep an
    /// unchanged snapshot; otherwise, as in every plain in-process step, the update happens in place with no copy.
    /// </summary>
    private void PrepareMasterForUpdate()
    {
        if (!_publishesMaster) return;
        _lending.Forget(_version);
        if (!_lending.IsLent(_published)) return;
        MoveMasterTo(_lending.Rent(_published.Length));
    }

    /// <summary>Copies the master into <paramref name="buffer"/>, which becomes the master and the published weights.</summary>
    private void MoveMasterTo(float[] buffer)
    {
        _model.Compute.Download(_model.Parameters, buffer);
        _model.ReadParametersFrom(HostTensor(buffer));
        var previous = _published;
        _published = buffer;
        _lending.Retire(previous, _version);
    }

    private void Evaluate()
    {
        var (loss, accuracy) = Evaluation.Run(_model, _data.Test);
        Sender.Tell(new WeightsEvaluated(_jobId, _version, loss, accuracy), Self);
    }

    private void Publish()
    {
        // Never the array of an earlier version that a worker may still be reading: only one every
        // subscriber has handed back (WeightsBufferReleased), or a fresh one.
        var previous = _published;
        _published = _lending.Rent(_model.Layout.TotalSize);
        _model.Compute.Download(_model.Parameters, _published);
        _lending.Retire(previous, _version);
    }
}

using System.Diagnostics;
using System.Runtime.InteropServices;
using ParallelNet.Actors;
using ParallelNet.Data;
using ParallelNet.NN;
using ParallelNet.Tensors;
using ParallelNet.Training.Actors.Internal;

namespace ParallelNet.Training.Actors;

/// <summary>
/// A model replica on its own compute backend. For each <see cref="ComputeGradients"/> it runs every
/// virtual shard of its block as a mini-batch of its own, reduces the block along the fixed tree and
/// sends the sum to the parameter server. It works only with the weights version the command names:
/// an older command is dropped, a newer one waits until those weights arrive.
/// </summary>
public sealed class Worker : ReceiveActor
{
    private readonly string _jobId;
    private readonly int _index;
    private readonly TrainingOptions _options;
    private readonly Dataset _train;
    private readonly ICompute _compute;
    private readonly IActorRef _parameterServer;
    private readonly WorkerFault? _fault;
    // Where the transport lets this worker compute a block's sum (sent without a copy), and the rooms in use.
    private readonly ReserveBuffer? _reserve;
    private readonly Dictionary<ReadOnlyMemory<float>, Action> _reserved = [];
    private readonly Model _model;
    private Tensor? _deviceBlockSum;
    private readonly List<(ComputeGradients Work, IActorRef ReplyTo)> _waitingForWeights = [];
    private readonly GradientPacking _packing;
    // Dense gradient buffers the parameter server handed back (GradientBufferReleased), reused for later blocks.
    private readonly Stack<float[]> _gradientBuffers = new();
    private readonly float[] _fullGradient;
    // Host float[] buffers as tensors, one wrapper per buffer, so the model's cached views of them are found again.
    private readonly Dictionary<float[], Tensor> _hostTensors = new(ReferenceEqualityComparer.Instance);
    // On a host backend the replica reads the published weights in place: the buffer it reads, who lent it, whether
    // the loan is still held, and whether the lender shares this process (then the loan ends with each block, see OnWeights).
    private readonly bool _readsWeightsInPlace;
    private float[]? _weightsInUse;
    private IActorRef? _weightsLender;
    private bool _holdsWeightsLoan, _weightsLentInProcess;
    // Weights from another process that the replica reads where they arrived (WeightsArrived): how to hand them back.
    private Action? _arrivedWeightsRelease;
    private readonly float[] _inputs;
    private readonly float[] _targets;
    private long _version = -1;
    private int _permutationEpoch = -1;
    private int[] _permutation = [];

    private Worker(string jobId, int index, TrainingOptions options, Dataset train, ICompute compute, IActorRef parameterServer, WorkerFault? fault, ReserveBuffer? reserve,
        bool yieldBetweenLayers)
    {
        _reserve = reserve;
        _jobId = jobId;
        _index = index;
        _options = options;
        _train = train;
        _compute = compute;
        _parameterServer = parameterServer;
        _fault = fault;
        // Room for a whole batch: a worker that holds every shard of a step runs them as one batch where the model allows.
        int shardCapacity = (options.BatchSize + options.VirtualShards - 1) / options.VirtualShards;
        int blockCapacity = shardCapacity * options.VirtualShards;
        _model = Model.Create(options.Model, compute, blockCapacity);
        if (yieldBetweenLayers) _model.BetweenLayers = YieldCore;
        _inputs = new float[blockCapacity * train.SampleShape.Size];
        _targets = new float[blockCapacity * train.TargetSize];
        _packing = new GradientPacking(_model.Layout);
        _fullGradient = _packing.HasSparse ? new float[_model.Parameters.Length] : [];
        // A model without parameters keeps a one-element buffer of its own that no published array fits.
        _readsWeightsInPlace = _model.Parameters.IsHost && _model.Layout.TotalSize > 0;

        Receive<WeightsPublished>(OnWeights, w => w.JobId == _jobId);
        Receive<WeightsArrived>(OnWeights, w => w.JobId == _jobId);
        Receive<GradientBufferReleased>(OnGradientBufferReleased, m => m.JobId == _jobId);
        Receive<ComputeGradients>(OnWork, w => w.JobId == _jobId);
    }

    /// <param name="index">The worker's number in the job, for reports and fault injection only: it never affects the arithmetic.</param>
    /// <param name="reserveGradients">Where the transport to the parameter server lets the worker compute a block's sum (see <see cref="ReserveBuffer"/>); null: arrays.</param>
    /// <param name="yieldBetweenLayers">The computing thread offers its core to other runnable threads between layers (see
    /// <see cref="Model.BetweenLayers"/>): for a worker that shares cores with other processes, as a cluster worker does.</param>
    public static Props Props(string jobId, int index, TrainingOptions options, Dataset train, ICompute compute, IActorRef parameterServer, ReserveBuffer? reserveGradients = null,
        bool yieldBetweenLayers = false)
        => Props(jobId, index, options, train, compute, parameterServer, fault: null, reserveGradients, yieldBetweenLayers);

    internal static Props Props(string jobId, int index, TrainingOptions options, Dataset train, ICompute compute, IActorRef parameterServer, WorkerFault? fault,
        ReserveBuffer? reserveGradients = null, bool yieldBetweenLayers = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(compute);
        ArgumentNullException.ThrowIfNull(parameterServer);
        if (train.SampleShape.Size != options.Model.Input.Size)
            throw new TrainingException($"The model expects inputs of shape {options.Model.Input} but the data '{train.Name}' has samples of shape {train.SampleShape}.");
        return ParallelNet.Actors.Props.Create(() => new Worker(jobId, index, options, train, compute, parameterServer, fault, reserveGradients, yieldBetweenLayers));
    }

    private static void YieldCore() => Thread.Yield();

    protected override void PreStart() => _parameterServer.Tell(new SubscribeToWeights(_jobId), Self);

    // The weights go back to the parameter server (in process: so it can reuse the buffer); a cluster node drops the notice.
    protected override void PostStop()
    {
        ReleaseWeightsLoan();
        ReleaseArrivedWeights();
        foreach (var release in _reserved.Values) release();
        _reserved.Clear();
    }

    private void OnGradientBufferReleased(GradientBufferReleased released)
    {
        // A reserved room goes back to the transport (a no-op when the message took it); an array of ours is reused.
        if (_reserved.Remove(released.Buffer, out var release)) release();
        else if (MemoryMarshal.TryGetArray(released.Buffer, out var segment) && segment.Offset == 0 && segment.Array!.Length == _packing.DenseLength)
            _gradientBuffers.Push(segment.Array);
    }

    private void OnWeights(WeightsPublished weights)
    {
        HopTrace.Mark("worker.weights", weights.Version + 1);
        if (!IsNewer(weights.Version, weights.Weights.Length))
        {
            Sender.Tell(new WeightsBufferReleased(_jobId, weights.Weights), Self);
            return;
        }
        if (_readsWeightsInPlace)
        {
            // No copy into the replica: it reads this version's buffer in place. The parameter server gets it back
            // as soon as the block of the next step is sent, or at once when no block of that step waits here (a
            // worker standing by): it then updates that very buffer in place, once every block of the step is in,
            // so no reader needs it any longer. A block that arrives later still reads it unchanged, since the
            // server cannot update it before that block is in (a reissued duplicate computed meanwhile is of an
            // applied step, which the server drops). Weights from another process arrive as WeightsArrived.
            _model.ReadParametersFrom(HostTensor(weights.Weights));
            ReleaseWeightsLoan();
            ReleaseArrivedWeights();
            (_weightsInUse, _weightsLender, _holdsWeightsLoan, _weightsLentInProcess) = (weights.Weights, Sender, true, Sender.IsInProcess());
        }
        else
        {
            _compute.Upload(weights.Weights, _model.Parameters);
            Sender.Tell(new WeightsBufferReleased(_jobId, weights.Weights), Self);
            ReleaseArrivedWeights();
        }
        UseWeights(weights.Version);
        // Else a loan held by a worker without a block would make the server copy the master before every update.
        if (_weightsLentInProcess) ReleaseWeightsLoan();
    }

    private void OnWeights(WeightsArrived weights)
    {
        HopTrace.Mark("worker.weights", weights.Version + 1);
        bool newer;
        try
        {
            newer = IsNewer(weights.Version, weights.Weights.Length);
        }
        catch
        {
            weights.Release();
            throw;
        }
        if (!newer)
        {
            weights.Release();
            return;
        }
        ReleaseWeightsLoan();
        if (_readsWeightsInPlace)
        {
            // Weights from another process are read where they arrived (the replica only reads its parameters) and
            // handed back once a later version is in.
            _model.ReadParametersFrom(Tensor.FromMemory(MemoryMarshal.AsMemory(weights.Weights), new Shape(weights.Weights.Length)));
            ReleaseArrivedWeights();
            _arrivedWeightsRelease = weights.Release;
        }
        else
        {
            ReleaseArrivedWeights();
            _model.ReadParametersFrom(null);
            _compute.Upload(weights.Weights.Span, _model.Parameters);
            weights.Release();
        }
        UseWeights(weights.Version);
    }

    private void ReleaseArrivedWeights()
    {
        var release = _arrivedWeightsRelease;
        _arrivedWeightsRelease = null;
        release?.Invoke();
    }

    /// <summary>True for weights later than the replica's; throws when they do not fit its model.</summary>
    private bool IsNewer(long version, int length)
    {
        if (version <= _version) return false;
        if (length != _model.Layout.TotalSize)
            throw new TrainingException($"Weights version {version} has {length} values but this worker's model has {_model.Layout.TotalSize}; the parameter server runs another model.");
        return true;
    }

    /// <summary>The replica holds <paramref name="version"/> now: run the blocks that waited for it.</summary>
    private void UseWeights(long version)
    {
        _version = version;
        for (int i = 0; i < _waitingForWeights.Count;)
        {
            var (work, replyTo) = _waitingForWeights[i];
            if (work.WeightsVersion > _version) { i++; continue; }
            _waitingForWeights.RemoveAt(i);
            if (work.WeightsVersion == _version) Compute(work, replyTo);
        }
    }

    private void ReleaseWeightsLoan()
    {
        if (!_holdsWeightsLoan || _weightsInUse is null) return;
        _weightsLender?.Tell(new WeightsBufferReleased(_jobId, _weightsInUse), Self);
        _holdsWeightsLoan = false;
    }

    private Tensor HostTensor(float[] buffer)
    {
        if (!_hostTensors.TryGetValue(buffer, out var tensor))
        {
            // Buffers that stopped coming back (a cluster node's pool) are dropped rather than kept forever.
            if (_hostTensors.Count >= MaxHostTensors) _hostTensors.Clear();
            _hostTensors[buffer] = tensor = Tensor.FromArray(buffer, new Shape(buffer.Length));
        }
        return tensor;
    }

    private const int MaxHostTensors = 32;

    /// <summary>A whole array of ours as its cached tensor; other memory (a transport's room) as a tensor of its own.</summary>
    private Tensor HostTensor(Memory<float> buffer) =>
        MemoryMarshal.TryGetArray<float>(buffer, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? HostTensor(segment.Array)
            : Tensor.FromMemory(buffer, new Shape(buffer.Length));

    private void OnWork(ComputeGradients work)
    {
        if (work.WeightsVersion < _version) return; // a step already applied: nobody needs this block any more
        if (work.WeightsVersion > _version)
        {
            // Over a network the command may overtake the weights it needs.
            _waitingForWeights.Add((work, Sender));
            return;
        }
        Compute(work, Sender);
    }

    private void Compute(ComputeGradients work, IActorRef replyTo)
    {
        long started = Stopwatch.GetTimestamp();
        HopTrace.Mark("worker.block-start", work.Step, started);
        var plan = new ShardPlan(work.BatchCount, work.ShardCount);
        ShardPlan.ValidateBlock(work.Block, work.ShardCount);
        var permutation = PermutationOf(work.Epoch);
        if (work.BatchStart < 0 || work.BatchStart + work.BatchCount > permutation.Length)
            throw new TrainingException($"Step {work.Step} asks for rows [{work.BatchStart}, {work.BatchStart + work.BatchCount}) of an epoch of {permutation.Length} samples.");
        int blockShards = work.Block.ShardCount;
        if (InjectFault(work)) return;

        // Uninitialized: every element is overwritten, and zeroing megabytes per step shows in the overhead. Where the
        // transport offers room it sends from, the sum is computed there (no copy when it leaves).
        Memory<float> sum;
        if (_model.Gradients.IsHost && _reserve?.Invoke(_parameterServer, _packing.DenseLength) is { } room)
        {
            sum = room.Values;
            _reserved[sum] = room.Release;
        }
        else
        {
            sum = _gradientBuffers.Count > 0 ? _gradientBuffers.Pop() : GC.AllocateUninitializedArray<float>(_packing.DenseLength);
        }
        // The block's shards are consecutive slices of the batch and a subtree of the step's fixed tree: the model
        // runs them (as one batch where it can) and writes their tree sum, bitwise what shard-by-shard buffers and
        // the tree adds give. On a host backend the sum lands in the buffer that leaves with the message (the full
        // layout's when some slots are sparse): no copy.
        var (blockFirst, _) = plan.Shard(work.Block.FirstShard);
        Span<int> shardCounts = stackalloc int[blockShards];
        int samples = 0;
        for (int i = 0; i < blockShards; i++) samples += shardCounts[i] = plan.Shard(work.Block.FirstShard + i).Count;
        int sampleSize = _train.SampleShape.Size, targetSize = _train.TargetSize;
        var inputs = _inputs.AsSpan(0, samples * sampleSize);
        var targets = _targets.AsSpan(0, samples * targetSize);
        _train.CopyBatch(permutation.AsSpan(work.BatchStart + blockFirst, samples), inputs, targets);
        Memory<float> destination = _packing.HasSparse ? _fullGradient : sum;
        var summed = _model.Gradients.IsHost ? HostTensor(destination) : _deviceBlockSum ??= _compute.Allocate(new Shape(_model.Layout.TotalSize));
        Span<ShardResult> results = stackalloc ShardResult[blockShards];
        _model.TrainShardsSummed(inputs, targets, shardCounts, new StepContext(_options.Seed, work.Epoch, work.Step, blockFirst), summed, results);
        if (!_model.Gradients.IsHost) _compute.Download(summed, destination.Span);
        var losses = new double[blockShards];
        for (int i = 0; i < blockShards; i++) losses[i] = results[i].LossSum;
        SparseGradient[] sparse = [];
        if (_packing.HasSparse)
        {
            _packing.PackDense(_fullGradient, sum.Span);
            sparse = _packing.PackSparse(_fullGradient);
        }

        HopTrace.Mark("worker.block-computed", work.Step);
        // Before the gradients, so the server has the buffer back by the time the step's last block arrives.
        if (_weightsLentInProcess) ReleaseWeightsLoan();
        _parameterServer.Tell(new GradientsComputed(_jobId, work.Step, work.WeightsVersion, work.BatchCount, work.ShardCount, work.Block, sum, sparse, losses), Self);
        HopTrace.Mark("worker.block-sent", work.Step);
        replyTo.Tell(new BlockCompleted(_jobId, work.Step, work.Block, samples, Stopwatch.GetElapsedTime(started).TotalSeconds), Self);
    }

    /// <summary>Test seam: misbehave mid-block as the injected fault says; true when the block must be abandoned.</summary>
    private bool InjectFault(ComputeGradients work)
    {
        if (_fault is null || _fault.Worker != _index || _fault.Step != work.Step) return false;
        switch (_fault.Kind)
        {
            case WorkerFaultKind.Throw:
                throw new InvalidOperationException($"Injected fault: worker {_index} fails in the middle of step {work.Step}.");
            case WorkerFaultKind.Stop:
                Context.Stop(Self);
                return true;
            default:
                return true;
        }
    }

    private int[] PermutationOf(int epoch)
    {
        if (epoch != _permutationEpoch)
        {
            _permutation = EpochPermutation.Create(_options.Seed, epoch, _train.Count);
            _permutationEpoch = epoch;
        }
        return _permutation;
    }
}

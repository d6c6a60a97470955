using ParallelNet.NN.Internal;
using ParallelNet.NN.Layers;
using ParallelNet.NN.Losses;
using ParallelNet.Tensors;
using ParallelNet.Tensors.Random;

namespace ParallelNet.NN;

/// <summary>
/// A model replica on one compute backend: the layers of a <see cref="ModelSpec"/>, ONE flat parameter
/// buffer and ONE flat gradient buffer (laid out by <see cref="Layout"/>, PyTorch's state_dict order and
/// names), and activation buffers sized once for <c>maxBatch</c> samples. The only host→device
/// traffic is the upload of a shard's inputs and targets.
/// </summary>
public sealed class Model
{
    private readonly Sequential _network;
    private readonly IReadOnlyList<ParameterSlot> _slots;
    private readonly LossFunction _loss;
    private readonly BatchBuffer _inputs, _targets, _outputGradient;
    private readonly int _maxBatch;
    private readonly ReshapeCache _flatOutputs = new(), _shapedOutputGradient = new();
    // A class-label loss on a [steps, classes] output (a many-to-many head) scores every step: `steps` labels per sample.
    private readonly int _steps;
    private readonly ReshapeCache _stepOutputs = new(), _stepTargets = new(), _stepGradients = new();
    private readonly float[] _hostStepOutputs;
    private readonly WeightViews _l2Parameters, _l2Gradients;
    private readonly Tensor _ownParameters, _ownGradients;
    private readonly Dictionary<Tensor, Tensor[]> _gradientViews = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Tensor, Tensor[]> _parameterViews = new(ReferenceEqualityComparer.Instance);
    private readonly ShardSegments _segments;

    private Model(ModelSpec spec, ICompute compute, int maxBatch)
    {
        Spec = spec;
        Compute = compute;
        _maxBatch = maxBatch;
        _network = LayerFactory.Build(spec);
        var registry = new ParameterRegistry();
        _network.DeclareParameters(registry, "");
        Layout = registry.ToLayout();
        _slots = registry.Slots;
        // A model without parameters (possible in a spec) still gets a one-element buffer, so views and checksums work.
        var flat = new Shape(Math.Max(1, Layout.TotalSize));
        _ownParameters = Parameters = compute.Allocate(flat);
        _ownGradients = compute.Allocate(flat);
        Gradients = _ownGradients;
        foreach (var slot in _slots) slot.Bind(Parameters, Gradients);
        _network.Bind(compute, maxBatch);

        InputShape = spec.Input;
        OutputShape = _network.OutputShape;
        try
        {
            _steps = LossNames.UsesClassLabels(spec.Loss) && OutputShape.Rank == 2 ? OutputShape[0] : 1;
            _loss = new LossFunction(spec.Loss, compute, maxBatch * _steps, OutputShape.Size / _steps);
        }
        catch (ArgumentException e)
        {
            throw new ModelSpecException($"loss: {e.Message}", e);
        }
        TargetSize = _loss.TargetSize * _steps;
        _hostStepOutputs = _steps > 1 ? new float[maxBatch * OutputShape.Size] : [];
        _inputs = new BatchBuffer(compute, maxBatch, InputShape);
        _targets = new BatchBuffer(compute, maxBatch, new Shape(TargetSize));
        _outputGradient = new BatchBuffer(compute, maxBatch, new Shape(OutputShape.Size));
        _l2Parameters = new WeightViews(Layout);
        _l2Gradients = new WeightViews(Layout);
        _segments = new ShardSegments(AccumulateInto);
    }

    /// <summary>Builds the model with zeroed parameters (call <see cref="Initialize"/> or upload a checkpoint).</summary>
    public static Model Create(ModelSpec spec, ICompute compute, int maxBatch)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(compute);
        if (maxBatch <= 0) throw new ArgumentOutOfRangeException(nameof(maxBatch), $"maxBatch must be positive (the largest shard the model will see), got {maxBatch}.");
        return new Model(spec, compute, maxBatch);
    }

    public ModelSpec Spec { get; }
    public ICompute Compute { get; }

    /// <summary>
    /// Called on the computing thread after each top-level layer of a pass, forward and backward; null (the default):
    /// nothing. A cluster worker calls <see cref="Thread.Yield"/> here, so its compute thread offers the core to any
    /// other runnable thread between layers (free when none waits): its node's network and actor threads, and on a
    /// shared host another worker that a step's weights just woke, which otherwise waited for the compute thread's
    /// time slice to end. With two worker processes on the 2-vCPU test machine the second read its weights 0.16-0.19 ms
    /// after the first instead of 0.66-0.81 ms. The arithmetic does not change.
    /// </summary>
    public Action? BetweenLayers
    {
        get => _network.BetweenLayers;
        set => _network.BetweenLayers = value;
    }

    public ParameterLayout Layout { get; }

    /// <summary>
    /// All parameters and batch-norm statistics, flat, on <see cref="Compute"/>. The model's own buffer unless
    /// <see cref="ReadParametersFrom"/> pointed the layers at another.
    /// </summary>
    public Tensor Parameters { get; private set; }

    /// <summary>
    /// Gradients in the same layout; <see cref="TrainShard"/> adds into it, the caller zeroes it. The model's own
    /// buffer unless <see cref="AccumulateInto"/> pointed the layers at another.
    /// </summary>
    public Tensor Gradients { get; private set; }

    /// <summary>
    /// Makes <see cref="TrainShard"/> add into <paramref name="gradients"/> (a flat buffer of this layout on
    /// <see cref="Compute"/>, e.g. a virtual shard's own), so the caller needs no copy afterwards; null returns to the
    /// model's own buffer. The views of a buffer are made once, so switching among a few buffers allocates nothing.
    /// </summary>
    public void AccumulateInto(Tensor? gradients)
    {
        gradients ??= _ownGradients;
        if (ReferenceEquals(gradients, Gradients)) return;
        CheckFlat(gradients, nameof(gradients));
        if (ReferenceEquals(gradients.Storage, Parameters.Storage))
            throw new ArgumentException("The gradient buffer shares storage with the parameters; it needs a buffer of its own.", nameof(gradients));
        var views = ViewsOf(_gradientViews, gradients);
        for (int i = 0; i < views.Length; i++) _slots[i].UseGradient(views[i]);
        Gradients = gradients;
    }

    /// <summary>
    /// Makes the layers read their parameters from <paramref name="parameters"/> (a flat buffer of this layout on
    /// <see cref="Compute"/>, e.g. weights published by a parameter server) instead of copying them into the model's
    /// own buffer; null returns to that buffer. Training, evaluation and prediction only read parameters (batch-norm
    /// statistics go to <see cref="Gradients"/>), so the buffer is never written by them; the caller must keep it
    /// unchanged while the model reads it. The views of a buffer are made once, as in <see cref="AccumulateInto"/>.
    /// </summary>
    public void ReadParametersFrom(Tensor? parameters)
    {
        parameters ??= _ownParameters;
        if (ReferenceEquals(parameters, Parameters)) return;
        CheckFlat(parameters, nameof(parameters));
        if (ReferenceEquals(parameters.Storage, Gradients.Storage))
            throw new ArgumentException("The parameter buffer shares storage with the gradients; it needs a buffer of its own.", nameof(parameters));
        var views = ViewsOf(_parameterViews, parameters);
        for (int i = 0; i < views.Length; i++) _slots[i].UseValue(views[i]);
        Parameters = parameters;
    }

    private Tensor[] ViewsOf(Dictionary<Tensor, Tensor[]> cache, Tensor flat)
    {
        if (cache.TryGetValue(flat, out var views)) return views;
        // Buffers of earlier runs are dropped rather than kept forever.
        if (cache.Count >= MaxCachedBuffers) cache.Clear();
        views = new Tensor[_slots.Count];
        for (int i = 0; i < views.Length; i++) views[i] = flat.View(_slots[i].Info.Offset, _slots[i].Info.Shape);
        cache[flat] = views;
        return views;
    }

    private const int MaxCachedBuffers = 64;

    /// <summary>Per-sample input shape.</summary>
    public Shape InputShape { get; }

    /// <summary>Per-sample output shape (logits / scores / predictions of the last layer).</summary>
    public Shape OutputShape { get; }

    /// <summary>
    /// Floats per sample in the targets buffer: 1 (a class index) for cross_entropy and hinge, the output size otherwise.
    /// A class-label loss on a [steps, classes] output takes one class index per step (per-step cross-entropy of a
    /// many-to-many head, summed over steps and samples); such a sample counts as correct when every step is.
    /// </summary>
    public int TargetSize { get; }

    public int MaxBatch => _maxBatch;

    /// <summary>
    /// Sets every parameter to its initial value, a pure function of (seed, parameter index): parameter i
    /// draws from RandomStream.For(seed, Init, i). Batch-norm statistics start at mean 0, variance 1, count 0.
    /// </summary>
    public void Initialize(ulong seed)
    {
        for (int i = 0; i < _slots.Count; i++)
        {
            var slot = _slots[i];
            var host = new float[slot.Info.Length];
            slot.Init.Fill(host, RandomStream.For(seed, RandomPurpose.Init, i));
            Compute.Upload(host, slot.Value);
        }
    }

    /// <summary>
    /// Forward, loss and backward of one virtual shard in training mode: ADDS d(Σ loss)/d(parameters)
    /// into <see cref="Gradients"/> (plus the batch-norm statistics, see <see cref="ParameterRole.RunningMean"/>).
    /// The L2 term is not included: the step adds it once with <see cref="ApplyL2"/>.
    /// </summary>
    public ShardResult TrainShard(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int count, StepContext context) =>
        RunShard(inputs, targets, count, training: true, context, backward: true);

    /// <summary>
    /// <see cref="TrainShard"/> for consecutive virtual shards of one step (<paramref name="shardCounts"/> samples each,
    /// their inputs and targets back to back; <paramref name="context"/> places the first shard's first sample), shard i
    /// adding into <paramref name="gradients"/>[i] and reporting into <paramref name="results"/>[i]: bitwise the same as
    /// TrainShard shard by shard into those buffers. Where every layer maps rows independently and the shards fit
    /// <see cref="MaxBatch"/> together, they run through the network as one batch (one product per layer instead of
    /// one per shard); parameter gradients and losses are still taken shard by shard. Gradients return to the model's
    /// own buffer afterwards.
    /// </summary>
    public void TrainShards(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, ReadOnlySpan<int> shardCounts, StepContext context,
        IReadOnlyList<Tensor> gradients, Span<ShardResult> results)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        if (gradients.Count != shardCounts.Length)
            throw new ArgumentException($"{shardCounts.Length} shards need as many gradient buffers, got {gradients.Count}.");
        int total = CheckShards(inputs, targets, shardCounts, results.Length, out bool batched);
        foreach (var buffer in gradients) CheckFlat(buffer, nameof(gradients));
        try
        {
            if (batched)
            {
                _segments.Reset(shardCounts, gradients);
                TrainBatchedShards(inputs, targets, total, shardCounts, context, results);
            }
            else
            {
                TrainShardByShard(inputs, targets, shardCounts, context, gradients, results);
            }
        }
        finally
        {
            AccumulateInto(null);
        }
    }

    /// <summary>
    /// Trains consecutive virtual shards as <see cref="TrainShards"/> does and OVERWRITES <paramref name="summedGradients"/>
    /// with their gradients summed along the fixed binary tree (level by level, left += right; a power-of-two count of
    /// shards): bitwise what zeroed per-shard buffers, TrainShards and AddTree give. Where the shards run as one batch,
    /// the layers write the tree sums directly (no per-shard gradient buffers, no zeroing, no tree pass over them).
    /// </summary>
    public void TrainShardsSummed(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, ReadOnlySpan<int> shardCounts, StepContext context,
        Tensor summedGradients, Span<ShardResult> results)
    {
        CheckFlat(summedGradients, nameof(summedGradients));
        if (shardCounts.Length == 0 || (shardCounts.Length & (shardCounts.Length - 1)) != 0)
            throw new ArgumentException($"A tree sum needs a power-of-two number of shards, got {shardCounts.Length}.", nameof(shardCounts));
        if (ReferenceEquals(summedGradients.Storage, Parameters.Storage))
            throw new ArgumentException("The gradient buffer shares storage with the parameters; it needs a buffer of its own.", nameof(summedGradients));
        int total = CheckShards(inputs, targets, shardCounts, results.Length, out bool batched);
        // Without a fused tree product the layers would need per-shard buffers anyway: the model's own, kept across steps.
        if (!batched || !Compute.FusesBlockTreeProducts)
        {
            if (_shardGradients.Length != shardCounts.Length)
                _shardGradients = Enumerable.Range(0, shardCounts.Length).Select(_ => Compute.Allocate(new Shape(Math.Max(1, Layout.TotalSize)))).ToArray();
            foreach (var buffer in _shardGradients) Compute.Fill(buffer, 0f);
            TrainShards(inputs, targets, shardCounts, context, _shardGradients, results);
            Compute.AddTree(_shardGradients, 0, _shardGradients.Length);
            Compute.Copy(_shardGradients[0], summedGradients);
            return;
        }
        try
        {
            // Every layer with parameters overwrites its gradients; a model without parameters still gets zeros.
            if (_slots.Count == 0) Compute.Fill(summedGradients, 0f);
            AccumulateInto(summedGradients);
            _segments.ResetForTreeSum(shardCounts);
            TrainBatchedShards(inputs, targets, total, shardCounts, context, results);
        }
        finally
        {
            AccumulateInto(null);
        }
    }

    // Per-shard gradient buffers of TrainShardsSummed for models whose shards run one by one.
    private Tensor[] _shardGradients = [];

    private int CheckShards(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, ReadOnlySpan<int> shardCounts, int resultCount, out bool batched)
    {
        if (resultCount != shardCounts.Length)
            throw new ArgumentException($"{shardCounts.Length} shards need as many results, got {resultCount}.");
        int total = 0, shardsWithSamples = 0;
        foreach (int count in shardCounts)
        {
            if (count < 0) throw new ArgumentOutOfRangeException(nameof(shardCounts), $"A shard cannot hold {count} samples.");
            total += count;
            if (count > 0) shardsWithSamples++;
        }
        if (inputs.Length != total * InputShape.Size || targets.Length != total * TargetSize)
            throw new ArgumentException($"{total} samples need {total * InputShape.Size} input and {total * TargetSize} target floats, got {inputs.Length} and {targets.Length}.");
        batched = shardsWithSamples > 0 && total <= _maxBatch && _steps == 1 && _network.RowIndependent;
        return total;
    }

    private void TrainShardByShard(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, ReadOnlySpan<int> shardCounts, StepContext context,
        IReadOnlyList<Tensor> gradients, Span<ShardResult> results)
    {
        int first = 0;
        for (int s = 0; s < shardCounts.Length; s++)
        {
            int count = shardCounts[s];
            results[s] = new ShardResult(0, 0, 0);
            if (count == 0) continue;
            AccumulateInto(gradients[s]);
            results[s] = TrainShard(inputs.Slice(first * InputShape.Size, count * InputShape.Size), targets.Slice(first * TargetSize, count * TargetSize),
                count, context with { FirstSample = context.FirstSample + first });
            first += count;
        }
    }

    // The shards as one batch through the network, with _segments set up by the caller.
    private void TrainBatchedShards(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int total, ReadOnlySpan<int> shardCounts, StepContext context,
        Span<ShardResult> results)
    {
        if (LossNames.UsesClassLabels(Spec.Loss)) CheckLabels(targets);
        var x = _inputs.Rows(total);
        Compute.Upload(inputs, x);
        var y = _network.Forward(x, new PassContext(true, context, _segments));
        var t = _targets.Rows(total);
        Compute.Upload(targets, t);
        var dy = _outputGradient.Rows(total);
        var outputs = y.Shape.Rank == 2 ? y : _flatOutputs.Reshape(y, new Shape(OutputShape.Size));
        int first = 0;
        for (int s = 0; s < shardCounts.Length; s++)
        {
            int count = shardCounts[s];
            results[s] = new ShardResult(0, 0, 0);
            if (count == 0) continue;
            // Each shard's loss is summed on its own, as in a pass of the shard alone.
            var shardOutputs = _segments.Slice(outputs, s);
            var shardTargets = _segments.Slice(t, s);
            double loss = _loss.Compute(shardOutputs, shardTargets, _segments.Slice(dy, s));
            int correct = _loss.CountCorrect(shardOutputs, shardTargets, targets.Slice(first * TargetSize, count * TargetSize));
            results[s] = new ShardResult(loss, correct, count);
            first += count;
        }
        var dyShaped = y.Shape.Rank == 2 ? dy : _shapedOutputGradient.Reshape(dy, OutputShape);
        _network.BackwardShards(dyShaped, false, _segments);
    }

    /// <summary>Loss sum and correct count in eval mode (dropout off, running batch-norm statistics); gradients untouched.</summary>
    public ShardResult Evaluate(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int count) =>
        RunShard(inputs, targets, count, training: false, default, backward: false);

    /// <summary>Eval-mode outputs of the last layer (logits for classifiers) into <paramref name="outputs"/> [count × OutputShape.Size].</summary>
    public void Predict(ReadOnlySpan<float> inputs, int count, Span<float> outputs)
    {
        int outputSize = OutputShape.Size;
        if (outputs.Length < count * outputSize)
            throw new ArgumentException($"outputs holds {outputs.Length} floats but {count} samples need {count * outputSize}.", nameof(outputs));
        var y = ForwardUploaded(inputs, count, training: false, default);
        Compute.Download(y, outputs[..(count * outputSize)]);
    }

    /// <summary>Adds lambda·w to <paramref name="averagedGradients"/> for every Weight slot (biases, batch-norm and slopes are not penalized).</summary>
    public void ApplyL2(Tensor parameters, Tensor averagedGradients, float lambda)
    {
        CheckFlat(parameters, nameof(parameters));
        CheckFlat(averagedGradients, nameof(averagedGradients));
        if (lambda == 0f) return;
        var weights = _l2Parameters.Of(parameters);
        var gradients = _l2Gradients.Of(averagedGradients);
        for (int i = 0; i < weights.Length; i++) Compute.Axpy(lambda, weights[i], gradients[i]);
    }

    /// <summary>The penalty lambda/2 · Σ w² over Weight slots, to add once per step to the reported mean loss.</summary>
    public double L2Penalty(Tensor parameters, float lambda)
    {
        CheckFlat(parameters, nameof(parameters));
        if (lambda == 0f) return 0.0;
        double sum = 0;
        foreach (var w in _l2Parameters.Of(parameters)) sum += Compute.SumOfSquares(w);
        return 0.5 * lambda * sum;
    }

    /// <summary>
    /// The shard pass behind TrainShard and Evaluate; tests also use it to differentiate an eval pass and to read
    /// <see cref="InputGradient"/>.
    /// </summary>
    internal ShardResult RunShard(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int count, bool training, StepContext context, bool backward, bool inputGradient = false)
    {
        CheckCount(count);
        if (targets.Length != count * TargetSize)
            throw new ArgumentException($"targets holds {targets.Length} floats but {count} samples of {TargetSize} need {count * TargetSize}.", nameof(targets));
        if (LossNames.UsesClassLabels(Spec.Loss)) CheckLabels(targets);
        var y = ForwardUploaded(inputs, count, training, context);
        var t = _targets.Rows(count);
        Compute.Upload(targets, t);
        var dy = _outputGradient.Rows(count);
        var outputs = y.Shape.Rank == 2 ? y : _flatOutputs.Reshape(y, new Shape(OutputShape.Size));
        LastOutputs = outputs;
        double loss;
        int correct;
        if (_steps == 1)
        {
            loss = _loss.Compute(outputs, t, dy);
            correct = _loss.CountCorrect(outputs, t, targets);
        }
        else
        {
            var rows = new Shape(count * _steps, _loss.OutputSize);
            var stepOutputs = _stepOutputs.ReshapeWhole(outputs, rows);
            loss = _loss.Compute(stepOutputs, _stepTargets.ReshapeWhole(t, new Shape(count * _steps, 1)), _stepGradients.ReshapeWhole(dy, rows));
            correct = SequencesRight(outputs, targets, count);
        }
        if (backward)
        {
            var dyShaped = y.Shape.Rank == 2 ? dy : _shapedOutputGradient.Reshape(dy, OutputShape);
            InputGradient = _network.Backward(dyShaped, inputGradient);
        }
        return new ShardResult(loss, correct, count);
    }

    /// <summary>The outputs [count, OutputShape.Size] of the last <see cref="RunShard"/> (for tests).</summary>
    internal Tensor? LastOutputs { get; private set; }

    /// <summary>d(Σ loss)/d(inputs) of the last <see cref="RunShard"/> that asked for it.</summary>
    internal Tensor? InputGradient { get; private set; }

    private Tensor ForwardUploaded(ReadOnlySpan<float> inputs, int count, bool training, StepContext context)
    {
        CheckCount(count);
        if (inputs.Length != count * InputShape.Size)
            throw new ArgumentException($"inputs holds {inputs.Length} floats but {count} samples of shape {InputShape} need {count * InputShape.Size}.", nameof(inputs));
        var x = _inputs.Rows(count);
        Compute.Upload(inputs, x);
        return _network.Forward(x, new PassContext(training, context));
    }

    private void CheckCount(int count)
    {
        if (count <= 0 || count > _maxBatch)
            throw new ArgumentOutOfRangeException(nameof(count), $"count must be in [1, {_maxBatch}] (maxBatch given to Model.Create), got {count}.");
    }

    /// <summary>Samples whose every step's arg-max is its label.</summary>
    private int SequencesRight(Tensor outputs, ReadOnlySpan<float> labels, int count)
    {
        int classes = _loss.OutputSize;
        var host = _hostStepOutputs.AsSpan(0, count * OutputShape.Size);
        Compute.Download(outputs, host);
        int right = 0;
        for (int s = 0; s < count; s++)
        {
            bool all = true;
            for (int step = 0; step < _steps && all; step++)
            {
                int row = s * _steps + step;
                all = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(host.Slice(row * classes, classes)) == (int)labels[row];
            }
            if (all) right++;
        }
        return right;
    }

    private void CheckLabels(ReadOnlySpan<float> labels)
    {
        int classes = _loss.OutputSize;
        for (int i = 0; i < labels.Length; i++)
        {
            float label = labels[i];
            if (!(label >= 0 && label < classes && label == MathF.Floor(label)))
                throw new ArgumentException($"Target {i} is {label}, but {LossNames.ToName(Spec.Loss)} needs class indices 0..{classes - 1} (the model has {classes} outputs).", "targets");
        }
    }

    private void CheckFlat(Tensor t, string name)
    {
        ArgumentNullException.ThrowIfNull(t, name);
        if (t.Length != Parameters.Length)
            throw new ArgumentException($"{name} has {t.Length} elements but this model's flat layout has {Parameters.Length}.", name);
    }
}

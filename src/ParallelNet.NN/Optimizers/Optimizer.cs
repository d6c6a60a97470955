using ParallelNet.NN.Optimizers.Internal;
using ParallelNet.Tensors;

namespace ParallelNet.NN.Optimizers;

/// <summary>
/// The parameter server's update stage over the flat parameter buffer of a <see cref="ParameterLayout"/>.
/// It calls only <see cref="ICompute"/>, so buffers and state may live on any backend.
///
/// One <see cref="Step"/> takes the gradient SUM over the global batch (already reduced along the
/// fixed tree) and, in this order: divides it by the batch size; rejects the step if any averaged
/// gradient or batch statistic is NaN or infinite; clamps gradient values; clips the global norm;
/// updates each trainable slot with the scheduled learning rate; moves the batch-norm running
/// statistics towards the batch averages; and counts the batch in BatchCount slots.
/// Every loop runs in layout order, so the result does not depend on threads or workers.
/// </summary>
public sealed class Optimizer
{
    private readonly OptimizerOptions _options;
    private readonly ParameterLayout _layout;
    private readonly ICompute _compute;
    private readonly LearningRateSchedule _schedule;
    // Per layout slot: SGD's momentum buffer or Adam's exp_avg, and Adam's exp_avg_sq; null where the slot keeps no state.
    private readonly Tensor?[] _firstMoments;
    private readonly Tensor?[] _secondMoments;
    private readonly List<(string Name, Tensor State)> _state = [];
    // Per BatchCount slot: a tensor of ones of its shape, since ICompute has no "add a scalar".
    private readonly Tensor?[] _counterIncrements;
    private readonly LayoutViews _parameterViews;
    private readonly LayoutViews _gradientViews;

    public Optimizer(OptimizerOptions options, ParameterLayout layout, ICompute compute)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(compute);
        options.Validate();
        foreach (var p in layout.Parameters)
        {
            if ((p.Role is ParameterRole.RunningMean or ParameterRole.RunningVariance) && !(p.StatisticMomentum >= 0f && p.StatisticMomentum <= 1f))
                throw new ArgumentException($"Running statistic '{p.Name}' has momentum {p.StatisticMomentum}; it must be in [0, 1] (PyTorch's default is 0.1).", nameof(layout));
        }

        _options = options;
        _layout = layout;
        _compute = compute;
        _schedule = options.Schedule ?? new LearningRateSchedule.Constant();
        _parameterViews = new LayoutViews(layout);
        _gradientViews = new LayoutViews(layout);

        int count = layout.Parameters.Count;
        _firstMoments = new Tensor?[count];
        _secondMoments = new Tensor?[count];
        _counterIncrements = new Tensor?[count];
        for (int i = 0; i < count; i++)
        {
            var p = layout.Parameters[i];
            if (p.Role == ParameterRole.BatchCount)
            {
                _counterIncrements[i] = compute.Allocate(p.Shape);
                compute.Fill(_counterIncrements[i]!, 1f);
            }
            if (!p.IsTrainable) continue;
            if (options.Kind == OptimizerKind.Sgd)
            {
                // Plain SGD keeps no buffer, like PyTorch (its momentum_buffer stays None).
                if (options.Momentum > 0f) _firstMoments[i] = AddState(p, "momentum_buffer");
            }
            else
            {
                _firstMoments[i] = AddState(p, "exp_avg");
                _secondMoments[i] = AddState(p, "exp_avg_sq");
            }
        }
    }

    public OptimizerOptions Options => _options;

    /// <summary>Number of applied steps (rejected steps do not count). Drives the schedule, Adam's bias correction and SGD's first-step momentum.</summary>
    public long StepsTaken { get; private set; }

    /// <summary>
    /// The optimizer state for checkpoints, in layout order, named like PyTorch's state_dict entries
    /// prefixed by the parameter name: "0.weight.momentum_buffer", "0.weight.exp_avg", "0.weight.exp_avg_sq".
    /// The tensors belong to the compute backend; download them to save. Restore with <see cref="LoadState"/>.
    /// </summary>
    public IReadOnlyList<(string Name, Tensor State)> State => _state;

    /// <summary>The learning rate the next step will use.</summary>
    public float NextLearningRate(long totalSteps) => _options.LearningRate * _schedule.Factor(StepsTaken, totalSteps);

    /// <summary>
    /// Applies one optimizer step. <paramref name="gradients"/> holds the sum over the global batch and is
    /// consumed: it is averaged and clipped in place. If any averaged value is not finite the step is
    /// rejected: weights, running statistics, counters and optimizer state stay untouched.
    /// </summary>
    /// <param name="totalSteps">Planned number of optimizer steps of the job (used by the cosine schedule).</param>
    public StepOutcome Step(Tensor parameters, Tensor gradients, int batchSize, long totalSteps)
        => Step(parameters, gradients, batchSize, totalSteps, divideByBatch: true);

    /// <summary>
    /// <see cref="Step(Tensor, Tensor, int, long)"/> for gradients already divided by the batch size: every element
    /// multiplied by the float <c>1f / batchSize</c>, which is what the step's own division does, so the outcome is
    /// bitwise the same. It spares a pass over the gradients when the caller scaled them while producing them, as the
    /// parameter server does while it combines the workers' blocks.
    /// </summary>
    public StepOutcome StepAveraged(Tensor parameters, Tensor averagedGradients, int batchSize, long totalSteps)
        => Step(parameters, averagedGradients, batchSize, totalSteps, divideByBatch: false);

    /// <summary>
    /// <see cref="StepAveraged"/> for gradients the caller has already found finite, every element of the buffer (as the
    /// parameter server does while it combines them): the step skips its own pass over the gradients that looks for NaN
    /// and ±Inf, and measures the norm only when clipping needs it; otherwise <see cref="StepOutcome.GradientNorm"/> is NaN
    /// (not measured). Weights, state and counters come out bitwise as <see cref="StepAveraged"/> leaves them. A caller
    /// that found a non-finite value calls <see cref="StepAveraged"/>, which rejects the step and says where.
    /// </summary>
    public StepOutcome StepAveragedFinite(Tensor parameters, Tensor finiteAveragedGradients, int batchSize, long totalSteps)
        => Step(parameters, finiteAveragedGradients, batchSize, totalSteps, divideByBatch: false, knownFinite: true, scan: null);

    /// <summary>
    /// A <see cref="GradientScan"/> for this optimizer, or null when it would have nothing to do beyond the look for NaN
    /// and Inf (no clipping: <see cref="StepAveragedFinite"/> after a checked combine is all it takes) or the backend is
    /// not the CPU's (the scan works on host spans with the CPU kernels).
    /// </summary>
    public GradientScan? CreateGradientScan()
        => (_options.ClipValue > 0f || _options.ClipGlobalNorm > 0f) && _compute is Tensors.Cpu.CpuCompute ? new GradientScan(this, _layout, _options) : null;

    /// <summary>
    /// <see cref="StepAveraged"/> for averaged gradients that <paramref name="scan"/> visited whole while they were written
    /// and found finite: they are already clamped, and the norm is the scan's (NaN when nothing clips by norm).
    /// Weights, state and counters come out bitwise as <see cref="StepAveraged"/> leaves them.
    /// </summary>
    public StepOutcome StepScanned(Tensor parameters, Tensor scannedGradients, int batchSize, long totalSteps, GradientScan scan)
    {
        ArgumentNullException.ThrowIfNull(scan);
        if (!ReferenceEquals(scan.Owner, this)) throw new ArgumentException("The scan belongs to another optimizer.", nameof(scan));
        if (!scan.AllFinite) throw new ArgumentException("The scan found NaN or Inf: StepAveraged rejects such a step and says where.", nameof(scan));
        return Step(parameters, scannedGradients, batchSize, totalSteps, divideByBatch: false, knownFinite: true, scan);
    }

    private StepOutcome Step(Tensor parameters, Tensor gradients, int batchSize, long totalSteps, bool divideByBatch, bool knownFinite = false, GradientScan? scan = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(gradients);
        RequireWholeBuffer(parameters, nameof(parameters), "parameter");
        RequireWholeBuffer(gradients, nameof(gradients), "gradient");
        if (ReferenceEquals(parameters.Storage, gradients.Storage)
            && parameters.Offset < gradients.Offset + gradients.Length && gradients.Offset < parameters.Offset + parameters.Length)
            throw new ArgumentException("The parameter and gradient buffers overlap; the gradients need a buffer of their own.", nameof(gradients));
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), $"The batch size must be positive (the number of samples the gradients were summed over), got {batchSize}.");
        if (totalSteps < 0) throw new ArgumentOutOfRangeException(nameof(totalSteps), $"The total step count must be non-negative, got {totalSteps}.");

        // Before touching anything, so a schedule error leaves all buffers as they were.
        float learningRate = NextLearningRate(totalSteps);
        var weights = _parameterViews.Over(parameters);
        var grads = _gradientViews.Over(gradients);

        if (divideByBatch) _compute.Scale(gradients, 1f / batchSize);
        double sumOfSquares;
        if (scan is not null)
        {
            sumOfSquares = scan.SumOfSquares();
        }
        else if (!knownFinite)
        {
            if (!CheckFinite(grads, out sumOfSquares, out var rejection)) return rejection;
        }
        else
        {
            // CheckFinite's measuring loop without its look for non-finite values: the same sums in the same order.
            // Value clipping measures after clamping; without clipping nothing reads the norm.
            sumOfSquares = _options.ClipValue > 0f ? 0 : _options.ClipGlobalNorm > 0f ? AddSumsOfSquares(grads, 0) : double.NaN;
        }

        double norm = ClipGradients(grads, sumOfSquares, clamped: scan is not null);
        for (int i = 0; i < weights.Count; i++)
        {
            var p = _layout.Parameters[i];
            switch (p.Role)
            {
                case ParameterRole.RunningMean or ParameterRole.RunningVariance:
                    MoveRunningStatistic(weights[i], grads[i], p.StatisticMomentum);
                    break;
                case ParameterRole.BatchCount:
                    _compute.Axpy(1f, _counterIncrements[i]!, weights[i]);
                    break;
                default:
                    Update(i, weights[i], grads[i], learningRate);
                    break;
            }
        }

        StepsTaken++;
        return new StepOutcome(true, norm, null);
    }

    /// <summary>
    /// Restores the state saved from <see cref="State"/> (names to values) and the step count. All
    /// names must be present with matching lengths and no others; nothing changes if one is wrong.
    /// </summary>
    public void LoadState(IReadOnlyDictionary<string, float[]> state, long stepsTaken)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (stepsTaken < 0) throw new ArgumentOutOfRangeException(nameof(stepsTaken), $"The restored step count must be non-negative, got {stepsTaken}.");
        var expected = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in _state)
        {
            expected.Add(name);
            if (!state.TryGetValue(name, out var values))
                throw new ArgumentException($"Optimizer state '{name}' is missing; a {_options.Kind} optimizer needs every entry of Optimizer.State.", nameof(state));
            if (values.Length != tensor.Length)
                throw new ArgumentException($"Optimizer state '{name}' has {values.Length} values but the parameter has {tensor.Length}; the checkpoint belongs to another model.", nameof(state));
        }
        foreach (var name in state.Keys)
        {
            if (!expected.Contains(name))
                throw new ArgumentException($"Unexpected optimizer state '{name}': this {_options.Kind} optimizer keeps [{string.Join(", ", expected)}]; the checkpoint was written with other optimizer options or another model.", nameof(state));
        }

        foreach (var (name, tensor) in _state) _compute.Upload(state[name], tensor);
        StepsTaken = stepsTaken;
    }

    private Tensor AddState(ParameterInfo parameter, string suffix)
    {
        var tensor = _compute.Allocate(parameter.Shape);
        _state.Add(($"{parameter.Name}.{suffix}", tensor));
        return tensor;
    }

    private void RequireWholeBuffer(Tensor buffer, string argument, string what)
    {
        if (buffer.Length != _layout.TotalSize)
            throw new ArgumentException($"The {what} buffer has {buffer.Length} elements but the layout has {_layout.TotalSize}; pass the model's whole flat {what} buffer.", argument);
    }

    /// <summary>
    /// Rejects the step at the first slot (in layout order) holding NaN or ±Inf; batch counters are not checked.
    /// Without value clipping one pass per trainable slot both checks and measures: a finite sum of squares proves
    /// every value of the slot finite, and the sums, added in slot order, are the norm's. With value clipping the norm
    /// is taken after clamping, so the sum is left at 0 for <see cref="ClipGradients"/>.
    /// </summary>
    private bool CheckFinite(IReadOnlyList<Tensor> grads, out double sumOfSquares, out StepOutcome rejection)
    {
        var parameters = _layout.Parameters;
        bool measure = !(_options.ClipValue > 0f);
        sumOfSquares = 0;
        rejection = default;
        for (int i = 0; i < grads.Count; i++)
        {
            var p = parameters[i];
            bool finite;
            if (measure && p.IsTrainable)
            {
                double sum = _compute.SumOfSquares(grads[i]);
                sumOfSquares += sum;
                // An infinite sum may still come from huge finite values (a backend summing in float): then look.
                finite = double.IsFinite(sum) || !_compute.HasNonFinite(grads[i]);
            }
            else
            {
                finite = p.Role == ParameterRole.BatchCount || !_compute.HasNonFinite(grads[i]);
            }
            if (finite) continue;
            rejection = new StepOutcome(false, double.NaN, DescribeNonFinite(p, grads[i]));
            return false;
        }
        return true;
    }

    /// <summary>
    /// Value clipping, then global-norm clipping, over trainable slots only; returns the norm before the latter.
    /// <paramref name="sumOfSquares"/> is the sum <see cref="CheckFinite"/> measured (0 when value clipping is on, NaN when
    /// <see cref="StepAveragedFinite"/> left it unmeasured because nothing clips), or a scan's when it
    /// <paramref name="clamped"/> the values already.
    /// </summary>
    private double ClipGradients(IReadOnlyList<Tensor> grads, double sumOfSquares, bool clamped)
    {
        var parameters = _layout.Parameters;
        float bound = _options.ClipValue;
        if (bound > 0f && !clamped)
        {
            for (int i = 0; i < grads.Count; i++)
                if (parameters[i].IsTrainable) _compute.Clamp(grads[i], -bound, bound);
            sumOfSquares = AddSumsOfSquares(grads, sumOfSquares);
        }
        double norm = Math.Sqrt(sumOfSquares);

        if (_options.ClipGlobalNorm > 0f)
        {
            // PyTorch's clip_grad_norm_ formula, epsilon included, so clipped gradients match it.
            double coefficient = _options.ClipGlobalNorm / (norm + 1e-6);
            if (coefficient < 1.0)
            {
                for (int i = 0; i < grads.Count; i++)
                    if (parameters[i].IsTrainable) _compute.Scale(grads[i], (float)coefficient);
            }
        }
        return norm;
    }

    /// <summary><paramref name="sum"/> plus the sum of squares of each trainable slot, added in slot order.</summary>
    private double AddSumsOfSquares(IReadOnlyList<Tensor> grads, double sum)
    {
        for (int i = 0; i < grads.Count; i++)
            if (_layout.Parameters[i].IsTrainable) sum += _compute.SumOfSquares(grads[i]);
        return sum;
    }

    private void Update(int slot, Tensor weights, Tensor gradients, float learningRate)
    {
        var o = _options;
        if (o.Kind == OptimizerKind.Sgd)
        {
            if (o.Momentum > 0f)
            {
                _compute.SgdStep(weights, gradients, _firstMoments[slot]!, learningRate, o.Momentum, o.WeightDecay, o.Nesterov, firstStep: StepsTaken == 0);
                return;
            }
            if (o.WeightDecay > 0f) _compute.Axpy(o.WeightDecay, weights, gradients);
            _compute.Axpy(-learningRate, gradients, weights);
            return;
        }
        _compute.AdamStep(weights, gradients, _firstMoments[slot]!, _secondMoments[slot]!, learningRate,
            o.Beta1, o.Beta2, o.Epsilon, o.WeightDecay, decoupled: o.Kind == OptimizerKind.AdamW, step: StepsTaken + 1);
    }

    /// <summary>running = (1 - m) * running + m * average, where the gradient slot holds the batch average after division.</summary>
    private void MoveRunningStatistic(Tensor running, Tensor batchAverage, float momentum)
    {
        if (momentum == 0f) return;
        _compute.Scale(running, 1f - momentum);
        _compute.Axpy(momentum, batchAverage, running);
    }

    /// <summary>Only on the rejection path: downloads the offending slot to say which element is bad and how.</summary>
    private string DescribeNonFinite(ParameterInfo parameter, Tensor values)
    {
        var host = new float[values.Length];
        _compute.Download(values, host);
        int index = Array.FindIndex(host, v => !float.IsFinite(v));
        string kind = index < 0 ? "not finite" : float.IsNaN(host[index]) ? "NaN" : host[index] > 0 ? "+Inf" : "-Inf";
        string what = parameter.IsTrainable ? "gradient" : "batch statistic";
        return $"{what} of '{parameter.Name}' is {kind} at element {index}";
    }
}

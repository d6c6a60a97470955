using ParallelNet.NN.Initializers;
using ParallelNet.NN.Internal;
using ParallelNet.Tensors;

namespace ParallelNet.NN.Layers;

/// <summary>
/// A one-layer recurrent network over x [n, T, I] (batch first, as torch.nn.RNN/LSTM with batch_first=True), with
/// zero initial state and PyTorch's parameters weight_ih_l0 [G·H, I], weight_hh_l0 [G·H, H], bias_ih_l0, bias_hh_l0
/// (G gate blocks: 1 for the tanh RNN, 4 for the LSTM), all drawn uniform in ±1/sqrt(H) like PyTorch.
///
/// Many-to-one (default) returns the last hidden state [H]; many-to-many (<c>returnSequences</c>) returns every
/// step's [T, H]. Backpropagation through time runs over the whole sequence, or with <c>truncate</c> = k &gt; 0
/// cuts the gradient through the state at steps k, 2k, ... (the state is carried forward, its gradient is not:
/// PyTorch's detach() every k steps).
///
/// The work is time-major: the input products of all steps are one GEMM, each step adds h W_hhᵀ and runs the
/// cell, and the backward pass gathers the weight gradients of all steps in two GEMMs (rows ordered by step,
/// then sample: a fixed order whatever the thread count).
/// </summary>
internal abstract class Recurrent : Module
{
    private readonly int _gateBlocks;
    private readonly bool _returnSequences;
    private readonly int _truncate;
    private ParameterSlot _weightInput = null!, _weightHidden = null!, _biasInput = null!, _biasHidden = null!;
    private SequenceViews _input = null!, _gateGradients = null!, _outputGradients = null!, _inputGradients = null!;
    private BatchBuffer _sequenceOutput = null!, _inputGradient = null!, _hiddenGradient = null!, _hiddenCarry = null!;
    private int _rows;

    protected Recurrent(Shape inputShape, int hidden, int gateBlocks, bool returnSequences, int truncate) : base(inputShape)
    {
        // A one-channel image [1, H, W] is read row by row: H steps of W features.
        bool image = inputShape.Rank == 3 && inputShape[0] == 1;
        if (inputShape.Rank != 2 && !image)
            throw new ArgumentException($"a recurrent layer reads [steps, features] per sample (or a one-channel image [1, rows, columns]), got {inputShape}.");
        if (hidden <= 0) throw new ArgumentException($"hidden must be positive, got {hidden}.");
        if (truncate < 0) throw new ArgumentException($"truncate must be 0 (full backpropagation through time) or a positive number of steps, got {truncate}.");
        Steps = inputShape[-2];
        InputSize = inputShape[-1];
        Hidden = hidden;
        _gateBlocks = gateBlocks;
        _returnSequences = returnSequences;
        _truncate = truncate;
    }

    public int Steps { get; }
    public int InputSize { get; }
    public int Hidden { get; }
    protected int GateWidth => _gateBlocks * Hidden;
    protected ICompute Compute { get; private set; } = null!;
    protected int Rows => _rows;

    /// <summary>Pre-activations, overwritten by the cell's activations: [T·n, GateWidth].</summary>
    protected SequenceViews Gates { get; private set; } = null!;

    /// <summary>Hidden states h_{-1} (zeros), h_0, ..., h_{T-1}: slot t + 1 holds step t's output.</summary>
    protected SequenceViews HiddenStates { get; private set; } = null!;

    public override Shape OutputShape => _returnSequences ? new Shape(Steps, Hidden) : new Shape(Hidden);

    public override void DeclareParameters(ParameterRegistry registry, string prefix)
    {
        var init = new ParameterInit(InitDistribution.Uniform, 1f / MathF.Sqrt(Hidden));
        _weightInput = registry.Add(prefix + "weight_ih_l0", new Shape(GateWidth, InputSize), ParameterRole.Weight, init);
        _weightHidden = registry.Add(prefix + "weight_hh_l0", new Shape(GateWidth, Hidden), ParameterRole.Weight, init);
        _biasInput = registry.Add(prefix + "bias_ih_l0", new Shape(GateWidth), ParameterRole.Bias, init);
        _biasHidden = registry.Add(prefix + "bias_hh_l0", new Shape(GateWidth), ParameterRole.Bias, init);
    }

    public override void Bind(ICompute compute, int maxBatch)
    {
        Compute = compute;
        _input = new SequenceViews(compute, Steps, maxBatch, InputSize);
        Gates = new SequenceViews(compute, Steps, maxBatch, GateWidth);
        HiddenStates = new SequenceViews(compute, Steps + 1, maxBatch, Hidden);
        _gateGradients = new SequenceViews(compute, Steps, maxBatch, GateWidth);
        _inputGradients = new SequenceViews(compute, Steps, maxBatch, InputSize);
        _inputGradient = new BatchBuffer(compute, maxBatch, InputShape);
        _hiddenGradient = new BatchBuffer(compute, maxBatch, new Shape(Hidden));
        _hiddenCarry = new BatchBuffer(compute, maxBatch, new Shape(Hidden));
        if (_returnSequences)
        {
            _sequenceOutput = new BatchBuffer(compute, maxBatch, OutputShape);
            _outputGradients = new SequenceViews(compute, Steps, maxBatch, Hidden);
        }
        BindCell(compute, maxBatch);
    }

    /// <summary>Allocates the cell's own buffers (e.g. the LSTM's cell states).</summary>
    protected abstract void BindCell(ICompute compute, int maxBatch);

    /// <summary>Called when the batch size changes, before any step views are used.</summary>
    protected abstract void ResizeCell(int rows);

    /// <summary>Clears the initial state (beyond h_{-1}) before a forward pass.</summary>
    protected abstract void ResetState();

    /// <summary>Gates[t] holds step t's pre-activations; writes HiddenStates[t + 1].</summary>
    protected abstract void StepForward(int t);

    /// <summary>Clears the gradient carried through the state (beyond h) before a backward pass or at a truncation boundary.</summary>
    protected abstract void ResetStateGradient();

    /// <summary>From dL/dh_t (all paths) and the carried state gradient, writes dL/d(pre-activations of step t).</summary>
    protected abstract void StepBackward(int t, Tensor hiddenGradient, Tensor gateGradients);

    // forward: x [n, T, I] -> y [n, H] (last step) or [n, T, H]
    public override Tensor Forward(Tensor x, in PassContext context)
    {
        int n = x.Shape[0];
        Resize(n);
        Compute.SwapLeadingAxes(x, _input.All, n, Steps);
        var gates = Gates.All;
        Compute.Gemm(false, true, Steps * n, GateWidth, InputSize, 1f, _input.All, _weightInput.Value, 0f, gates);
        Compute.AddRowBias(gates, _biasInput.Value);
        Compute.AddRowBias(gates, _biasHidden.Value);
        Compute.Fill(HiddenStates[0], 0f);
        ResetState();
        for (int t = 0; t < Steps; t++)
        {
            Compute.Gemm(false, true, n, GateWidth, Hidden, 1f, HiddenStates[t], _weightHidden.Value, 1f, Gates[t]);
            StepForward(t);
        }
        if (!_returnSequences) return HiddenStates[Steps];
        var y = _sequenceOutput.Rows(n);
        Compute.SwapLeadingAxes(HiddenStates.Span(1, Steps), y, Steps, n);
        return y;
    }

    // backward: dy [n, H] or [n, T, H] -> dW += Σ_t (dgates_t)ᵀ [x_t | h_{t-1}], db += Σ dgates, dx [n, T, I]
    public override Tensor? Backward(Tensor dy, bool needInputGradient)
    {
        int n = _rows;
        if (_returnSequences) Compute.SwapLeadingAxes(dy, _outputGradients.All, n, Steps);
        var carry = _hiddenCarry.Rows(n);
        var total = _hiddenGradient.Rows(n);
        Compute.Fill(carry, 0f);
        ResetStateGradient();
        for (int t = Steps - 1; t >= 0; t--)
        {
            // dL/dh_t: the output's gradient at this step (if it is an output) plus what flows back from step t + 1.
            Tensor hiddenGradient;
            if (_returnSequences)
            {
                Compute.Add(_outputGradients[t], carry, total);
                hiddenGradient = total;
            }
            else
            {
                hiddenGradient = t == Steps - 1 ? dy : carry;
            }
            StepBackward(t, hiddenGradient, _gateGradients[t]);
            if (t == 0) break;
            if (_truncate > 0 && t % _truncate == 0)
            {
                Compute.Fill(carry, 0f);
                ResetStateGradient();
            }
            else
            {
                Compute.Gemm(false, false, n, Hidden, GateWidth, 1f, _gateGradients[t], _weightHidden.Value, 0f, carry);
            }
        }
        var gateGradients = _gateGradients.All;
        Compute.Gemm(true, false, GateWidth, InputSize, Steps * n, 1f, gateGradients, _input.All, 1f, _weightInput.Gradient);
        Compute.Gemm(true, false, GateWidth, Hidden, Steps * n, 1f, gateGradients, HiddenStates.Span(0, Steps), 1f, _weightHidden.Gradient);
        Compute.AccumulateColumnSums(gateGradients, _biasInput.Gradient);
        Compute.AccumulateColumnSums(gateGradients, _biasHidden.Gradient);
        if (!needInputGradient) return null;
        Compute.Gemm(false, false, Steps * n, InputSize, GateWidth, 1f, gateGradients, _weightInput.Value, 0f, _inputGradients.All);
        var dx = _inputGradient.Rows(n);
        Compute.SwapLeadingAxes(_inputGradients.All, dx, Steps, n);
        return dx;
    }

    private void Resize(int n)
    {
        if (n == _rows) return;
        _rows = n;
        foreach (var views in new[] { _input, Gates, HiddenStates, _gateGradients, _inputGradients, _outputGradients })
            views?.Resize(n);
        ResizeCell(n);
    }
}

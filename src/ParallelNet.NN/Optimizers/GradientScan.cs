using ParallelNet.Tensors.Cpu.Kernels;

namespace ParallelNet.NN.Optimizers;

/// <summary>
/// What an <see cref="Optimizer"/> with clipping does to the averaged gradients before it updates, done while a producer
/// writes them chunk by chunk (the parameter server's combine) instead of in passes of its own: per layout slot it looks
/// for NaN and ±Inf as the step does (batch counters not), clamps trainable values (value clipping) and measures their
/// sum of squares after the clamp (norm clipping), in the same order and with the same kernels as the step, so
/// <see cref="Optimizer.StepScanned"/> leaves bitwise what <see cref="Optimizer.StepAveraged"/> would. Host buffers of
/// the CPU backend only. Chunks of a slot come in order, from one thread at a time; different slots may come from
/// different threads at once. Made by <see cref="Optimizer.CreateGradientScan"/>, reused step after step.
/// </summary>
public sealed class GradientScan
{
    private readonly ParameterLayout _layout;
    private readonly float _clipValue;
    private readonly bool _measures;
    private readonly Elementwise.SumOfSquaresAccumulator[] _sums;
    private readonly bool[] _nonFinite;
    private readonly int[] _slotLengths;

    internal GradientScan(Optimizer owner, ParameterLayout layout, OptimizerOptions options)
    {
        Owner = owner;
        _layout = layout;
        _clipValue = options.ClipValue;
        _measures = options.ClipGlobalNorm > 0f;
        _sums = new Elementwise.SumOfSquaresAccumulator[layout.Parameters.Count];
        _nonFinite = new bool[layout.Parameters.Count];
        _slotLengths = [.. layout.Parameters.Select(p => p.Length)];
    }

    internal Optimizer Owner { get; }

    /// <summary>The lengths of the layout's slots, in order: the segments to visit.</summary>
    public IReadOnlyList<int> SlotLengths => _slotLengths;

    /// <summary>False when a checked slot held NaN or ±Inf: the step must go to <see cref="Optimizer.StepAveraged"/>, which rejects it and says where.</summary>
    public bool AllFinite => Array.IndexOf(_nonFinite, true) < 0;

    /// <summary>Forgets the previous step's gradients; call before the chunks of a step come.</summary>
    public void Reset()
    {
        Array.Clear(_sums);
        Array.Clear(_nonFinite);
    }

    /// <summary>
    /// Chunk <paramref name="values"/> of slot <paramref name="slot"/> starting at <paramref name="offsetInSlot"/> (a multiple
    /// of 16 unless it is the slot's only chunk), just written; <paramref name="last"/> when it ends the slot. A chunk with
    /// a non-finite value is left as it is, so the rejecting step finds the same value where it was.
    /// </summary>
    public void Visit(int slot, int offsetInSlot, Span<float> values, bool last)
    {
        var parameter = _layout.Parameters[slot];
        if (parameter.Role == ParameterRole.BatchCount || _nonFinite[slot]) return;
        if (Elementwise.HasNonFinite(values))
        {
            _nonFinite[slot] = true;
            return;
        }
        if (!parameter.IsTrainable) return;
        if (_clipValue > 0f) Elementwise.Clamp(values, -_clipValue, _clipValue);
        if (_measures) _sums[slot].Add(values, last);
    }

    /// <summary>The trainable slots' sums of squares added in slot order from 0, as the step adds them; NaN when nothing clips by norm.</summary>
    internal double SumOfSquares()
    {
        if (!_measures) return double.NaN;
        double sum = 0;
        for (int i = 0; i < _sums.Length; i++)
            if (_layout.Parameters[i].IsTrainable) sum += _slotLengths[i] == 0 ? 0 : _sums[i].Total;
        return sum;
    }
}

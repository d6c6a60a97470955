using ParallelNet.Data;
using ParallelNet.NN.Optimizers;
using ParallelNet.Tensors;

namespace ParallelNet.Training;

/// <summary>
/// The parameter server's way from the workers' gradient blocks to an optimizer step on a host backend without an L2
/// term, in two passes over the gradients where combining and stepping took three or four: <see cref="Combine"/> sums the
/// blocks along the tree, scales by 1/batch and looks for NaN and Inf chunk by chunk while each chunk is in L1 (with
/// clipping the optimizer's <see cref="GradientScan"/> also clamps and measures there), and <see cref="Step"/> updates
/// without the optimizer's own passes. A non-finite total takes <see cref="Optimizer.StepAveraged"/>, which rejects it
/// (or applies it, when the bad value is only in a batch counter's slot) as the plain way does. Weights and optimizer
/// state come out bitwise as combining and then <see cref="Optimizer.StepAveraged"/> leave them.
/// </summary>
public sealed class AveragedGradientStep
{
    private readonly Optimizer _optimizer;
    private readonly int _threads;
    // With clipping: the optimizer's scan and the visitor the combine calls (one delegate for every step).
    private readonly (GradientScan Scan, ReductionTree.CombinedChunkVisitor Visit)? _scanning;
    private bool? _finite;

    /// <param name="threads">Threads of the combine (the server's backend's; the workers wait meanwhile).</param>
    public AveragedGradientStep(Optimizer optimizer, int threads)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        _optimizer = optimizer;
        _threads = threads;
        if (optimizer.CreateGradientScan() is { } scan) _scanning = (scan, scan.Visit);
    }

    /// <summary>
    /// The blocks' tree sum times <paramref name="scale"/> (1/batch) into <paramref name="total"/>, the block sums only read, as
    /// <see cref="ReductionTree.CombineBlocksScaled(int, IReadOnlyList{ShardBlock}, IReadOnlyList{ReadOnlyMemory{float}}, Memory{float}, float, int)"/> writes it.
    /// </summary>
    public void Combine(int shardCount, IReadOnlyList<ShardBlock> blocks, IReadOnlyList<ReadOnlyMemory<float>> blockSums, Memory<float> total, float scale)
    {
        if (_scanning is { } scanning)
        {
            scanning.Scan.Reset();
            ReductionTree.CombineBlocksScaled(shardCount, blocks, blockSums, total, scale, scanning.Scan.SlotLengths, scanning.Visit, _threads);
            _finite = scanning.Scan.AllFinite;
        }
        else
        {
            _finite = ReductionTree.CombineBlocksScaled(shardCount, blocks, blockSums, total, scale, _threads);
        }
    }

    /// <summary>The optimizer step on what the last <see cref="Combine"/> wrote (<paramref name="averaged"/>, its total as a tensor).</summary>
    public StepOutcome Step(Tensor parameters, Tensor averaged, int batchSize, long totalSteps)
    {
        bool finite = _finite ?? throw new InvalidOperationException("Step follows Combine, once per combine.");
        _finite = null;
        if (!finite) return _optimizer.StepAveraged(parameters, averaged, batchSize, totalSteps);
        return _scanning is { } scanning ? _optimizer.StepScanned(parameters, averaged, batchSize, totalSteps, scanning.Scan)
            : _optimizer.StepAveragedFinite(parameters, averaged, batchSize, totalSteps);
    }
}

using ParallelNet.Tensors;

namespace ParallelNet.NN;

/// <summary>What a slot of the flat parameter buffer holds; decides how the optimizer treats it.</summary>
public enum ParameterRole
{
    Weight,
    Bias,
    /// <summary>Batch-norm scale (PyTorch name "weight").</summary>
    Gamma,
    /// <summary>Batch-norm shift (PyTorch name "bias").</summary>
    Beta,
    /// <summary>A learned activation slope (PReLU).</summary>
    Slope,
    /// <summary>
    /// Batch-norm running mean / variance. Not trained by gradient: during a step the shard's batch
    /// statistic times its sample count is accumulated into the gradient slot, so the fixed-tree sum
    /// divided by the batch size is the sample-weighted average, and the optimizer stage applies
    /// running = (1 - momentum) * running + momentum * average.
    /// </summary>
    RunningMean,
    RunningVariance,
    /// <summary>Batch-norm's num_batches_tracked counter (kept for PyTorch compatibility; +1 per step).</summary>
    BatchCount,
}

/// <summary>
/// One named tensor in the flat buffer, with PyTorch's name and layout (e.g. "1.weight", [out, in]).
/// <paramref name="RowSparse"/> marks a lookup table (an embedding): a shard's gradient touches only the rows
/// of the ids it saw, so the data-parallel step ships those rows instead of the whole table.
/// </summary>
public sealed record ParameterInfo(string Name, Shape Shape, int Offset, ParameterRole Role, float StatisticMomentum = 0f, bool RowSparse = false)
{
    public int Length => Shape.Size;
    public bool IsTrainable => Role is not (ParameterRole.RunningMean or ParameterRole.RunningVariance or ParameterRole.BatchCount);
}

/// <summary>The order, names, shapes and offsets of all parameters in one flat buffer (parameter order = PyTorch state_dict order).</summary>
public sealed class ParameterLayout
{
    public ParameterLayout(IReadOnlyList<ParameterInfo> parameters)
    {
        int offset = 0;
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in parameters)
        {
            if (p.Offset != offset) throw new ArgumentException($"Parameter '{p.Name}' has offset {p.Offset}, expected {offset}: the layout must be dense and in order.");
            if (!names.Add(p.Name)) throw new ArgumentException($"Parameter name '{p.Name}' appears twice.");
            offset += p.Length;
        }
        Parameters = parameters;
        TotalSize = offset;
    }

    public IReadOnlyList<ParameterInfo> Parameters { get; }
    public int TotalSize { get; }

    /// <summary>Number of trainable scalars (the figure users compare with PyTorch's parameter count).</summary>
    public long TrainableCount => Parameters.Where(p => p.IsTrainable).Sum(p => (long)p.Length);

    public ParameterInfo this[string name] => Parameters.FirstOrDefault(p => p.Name == name)
        ?? throw new KeyNotFoundException($"No parameter named '{name}'.");
}

using ParallelNet.NN;
using ParallelNet.NN.Optimizers;

namespace ParallelNet.Training;

/// <summary>Everything that defines a training job's arithmetic; with the data it fixes the final weights bit for bit.</summary>
public sealed record TrainingOptions
{
    public required ModelSpec Model { get; init; }
    public required OptimizerOptions Optimizer { get; init; }
    public int Epochs { get; init; } = 1;
    public int BatchSize { get; init; } = 128;
    /// <summary>Virtual shards per global batch (a power of two); part of the job's identity, like the seed.</summary>
    public int VirtualShards { get; init; } = 4;
    public ulong Seed { get; init; } = 1;
    /// <summary>Stop after this global step (0 = run all epochs).</summary>
    public long MaxSteps { get; init; }
    /// <summary>Skip (true) or fail (false) a step whose reduced gradient holds NaN or Inf.</summary>
    public bool SkipNonFiniteSteps { get; init; }

    public void Validate()
    {
        if (Epochs <= 0) throw new ArgumentException($"epochs must be positive, got {Epochs}.");
        if (BatchSize <= 0) throw new ArgumentException($"batch size must be positive, got {BatchSize}.");
        if (VirtualShards <= 0 || (VirtualShards & (VirtualShards - 1)) != 0 || VirtualShards > 1024)
            throw new ArgumentException($"virtual shards must be a power of two between 1 and 1024, got {VirtualShards}.");
        if (VirtualShards > BatchSize) throw new ArgumentException($"virtual shards ({VirtualShards}) cannot exceed the batch size ({BatchSize}).");
        if (MaxSteps < 0) throw new ArgumentException($"max steps must be non-negative, got {MaxSteps}.");
        Optimizer.Validate();
    }
}

namespace ParallelNet.NN;

/// <summary>Outcome of a shard: the loss SUMMED over its samples, how many were predicted right (0 for regression), and the sample count.</summary>
public readonly record struct ShardResult(double LossSum, int Correct, int Count);

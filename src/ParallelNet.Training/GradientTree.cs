using ParallelNet.Tensors;

namespace ParallelNet.Training;

/// <summary>
/// Sums per-shard gradient buffers along the job's fixed binary tree: level by level, left += right.
/// Any aligned block of shards is a subtree, so a worker that reduces its block and a parameter
/// server that combines blocks produce bitwise the same sum as this full reduction.
/// </summary>
public static class GradientTree
{
    /// <summary>Reduces buffers[first .. first+count) into buffers[first]; count must be a power of two.</summary>
    public static void Reduce(ICompute compute, IReadOnlyList<Tensor> buffers, int first, int count)
    {
        if (count <= 0 || (count & (count - 1)) != 0) throw new ArgumentException($"A reduction block must hold a power-of-two number of shards, got {count}.");
        compute.AddTree(buffers, first, count);
    }
}

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
        RequirePowerOfTwo(count);
        compute.AddTree(buffers, first, count);
    }

    /// <summary>
    /// The same sum, but the root goes to <paramref name="destination"/> instead of buffers[first]
    /// (a block of one shard is copied), which saves a pass over the gradients when the sum is needed
    /// elsewhere. The last leaf is only ever read, so it may be a buffer the caller reuses, such as
    /// the model's own gradients; or it may be the destination itself (it is read before the last add
    /// writes there), which spares the copy of a one-shard block.
    /// </summary>
    public static void ReduceInto(ICompute compute, IReadOnlyList<Tensor> buffers, int first, int count, Tensor destination)
    {
        RequirePowerOfTwo(count);
        if (count == 1)
        {
            if (!ReferenceEquals(buffers[first], destination)) compute.Copy(buffers[first], destination);
            return;
        }
        // Both halves as subtrees, then their sum straight into the destination: the same adds as Reduce.
        compute.AddTree(buffers, first, count / 2);
        compute.AddTree(buffers, first + count / 2, count / 2);
        compute.Add(buffers[first], buffers[first + count / 2], destination);
    }

    private static void RequirePowerOfTwo(int count)
    {
        if (count <= 0 || (count & (count - 1)) != 0) throw new ArgumentException($"A reduction block must hold a power-of-two number of shards, got {count}.");
    }
}

using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using ParallelNet.Tensors;
using ParallelNet.Tensors.Cpu;

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
        if (compute is CpuCompute cpu && destination.IsHost && AllHost(buffers, first, count))
        {
            ReduceIntoOnHost(cpu.Threads, buffers, first, count, destination);
            return;
        }
        // Both halves as subtrees, then their sum straight into the destination: the same adds as Reduce.
        compute.AddTree(buffers, first, count / 2);
        compute.AddTree(buffers, first + count / 2, count / 2);
        compute.Add(buffers[first], buffers[first + count / 2], destination);
    }

    // 16 KiB of each buffer: a chunk of every shard stays in L1/L2 across the levels.
    private const int Chunk = 4096;

    // Below this many elements per thread the work stays on the calling thread: waking helpers costs more.
    private const int ElementsPerThread = 1 << 16;

    /// <summary>
    /// The adds of the level-by-level tree, all levels on one chunk before the next, the root's add writing the
    /// destination: each buffer streams through memory once (as in a full AddTree), not once more for the root.
    /// Contiguous ranges go to the compute's threads; elementwise adds give the same bits for any split.
    /// </summary>
    private static void ReduceIntoOnHost(int threads, IReadOnlyList<Tensor> buffers, int first, int count, Tensor destination)
    {
        int length = destination.Length;
        for (int i = first; i < first + count; i++)
        {
            if (buffers[i].Length != length)
                throw new ArgumentException($"ReduceInto: buffer {i} has {buffers[i].Length} elements but the destination has {length}.");
        }
        int parts = Math.Clamp(length / ElementsPerThread, 1, Math.Max(1, threads));
        if (parts == 1)
        {
            ReduceRange(buffers, first, count, destination, 0, length);
            return;
        }
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, part =>
        {
            int start = (int)((long)length * part / parts), end = (int)((long)length * (part + 1) / parts);
            ReduceRange(buffers, first, count, destination, start, end - start);
        });
    }

    private static void ReduceRange(IReadOnlyList<Tensor> buffers, int first, int count, Tensor destination, int start, int length)
    {
        for (int offset = start; offset < start + length; offset += Chunk)
        {
            int chunk = Math.Min(Chunk, start + length - offset);
            for (int width = 1; width < count; width *= 2)
            {
                for (int left = first; left < first + count; left += 2 * width)
                {
                    var sum = buffers[left].Span.Slice(offset, chunk);
                    var target = 2 * width == count ? destination.Span.Slice(offset, chunk) : sum;
                    TensorPrimitives.Add(sum, buffers[left + width].Span.Slice(offset, chunk), target);
                }
            }
        }
    }

    private static bool AllHost(IReadOnlyList<Tensor> buffers, int first, int count)
    {
        for (int i = first; i < first + count; i++)
        {
            if (!buffers[i].IsHost) return false;
        }
        return true;
    }

    private static void RequirePowerOfTwo(int count)
    {
        if (count <= 0 || (count & (count - 1)) != 0) throw new ArgumentException($"A reduction block must hold a power-of-two number of shards, got {count}.");
    }
}

using System.Numerics;
using System.Numerics.Tensors;
using ParallelNet.Tensors.Cpu.Kernels;

namespace ParallelNet.Data;

/// <summary>
/// Sums float buffers along the fixed binary tree over the S virtual shards: every inner node is
/// (left child + right child), elementwise. Each node's value depends only on its two children, so
/// the root is bitwise the same whether one machine reduced all S leaves or workers first reduced
/// their blocks (whole subtrees) and the blocks were combined afterwards. Reductions happen in
/// place in the given buffers; the Memory overloads allocate nothing.
/// </summary>
public static class ReductionTree
{
    /// <summary>
    /// Reduces the leaves of a whole (sub)tree; their count must be a power of two. The sum ends up
    /// in <c>leaves[0]</c>; the other buffers are overwritten with partial sums.
    /// </summary>
    public static void SumInPlace(IReadOnlyList<Memory<float>> leaves)
    {
        ArgumentNullException.ThrowIfNull(leaves);
        if (leaves.Count < 1 || !BitOperations.IsPow2(leaves.Count))
            throw new ArgumentException($"A reduction tree needs a power-of-two number of leaves (one per virtual shard), got {leaves.Count}.", nameof(leaves));
        int length = CheckLengths(leaves, static m => m.Length);
        for (int stride = 1; stride < leaves.Count; stride *= 2)
        {
            for (int left = 0; left < leaves.Count; left += 2 * stride)
                AddInto(leaves[left].Span[..length], leaves[left + stride].Span[..length]);
        }
    }

    public static void SumInPlace(IReadOnlyList<float[]> leaves)
    {
        ArgumentNullException.ThrowIfNull(leaves);
        SumInPlace(leaves.Select(b => (Memory<float>)b).ToArray());
    }

    /// <summary>
    /// Combines per-block sums (block k's subtree sum in <paramref name="blockSums"/>[k]) into the sum
    /// of the whole tree over <paramref name="shardCount"/> shards. The blocks, in shard order, must
    /// tile 0..shardCount-1 with whole subtrees (as <see cref="ShardPlan.AssignBlocks(int)"/> makes).
    /// The total ends up in <c>blockSums[0]</c>; the others are overwritten.
    /// </summary>
    public static void CombineBlocksInPlace(int shardCount, IReadOnlyList<ShardBlock> blocks, IReadOnlyList<Memory<float>> blockSums)
    {
        ArgumentNullException.ThrowIfNull(blockSums);
        ValidateTiling(shardCount, blocks, blockSums.Count);
        int length = CheckLengths(blockSums, static m => m.Length);
        Span<Merge> merges = stackalloc Merge[blocks.Count - 1];
        PlanMerges(shardCount, blocks, merges);
        foreach (var merge in merges) AddInto(blockSums[merge.Left].Span[..length], blockSums[merge.Right].Span[..length]);
    }

    /// <summary>
    /// The same sum as <see cref="CombineBlocksInPlace"/>, written into <paramref name="total"/>, with the
    /// block sums only read: the inner nodes below the root go to <paramref name="scratch"/> (one slot per
    /// block, filled on first use and kept by the caller for the next call), and the root is written
    /// straight into <paramref name="total"/>. So received buffers are neither copied nor modified: k
    /// blocks cost k - 1 additions (one block, a copy).
    /// </summary>
    public static void CombineBlocks(int shardCount, IReadOnlyList<ShardBlock> blocks, IReadOnlyList<ReadOnlyMemory<float>> blockSums, Span<float> total, float[]?[] scratch)
    {
        ArgumentNullException.ThrowIfNull(blockSums);
        ArgumentNullException.ThrowIfNull(scratch);
        ValidateTiling(shardCount, blocks, blockSums.Count);
        int length = total.Length;
        for (int k = 0; k < blockSums.Count; k++)
        {
            if (blockSums[k].Length != length)
                throw new ArgumentException($"Block sum {k} has {blockSums[k].Length} values but the total has {length}; they must have the same length.", nameof(blockSums));
        }
        if (scratch.Length < blocks.Count) throw new ArgumentException($"Need a scratch slot per block ({blocks.Count}), got {scratch.Length}.", nameof(scratch));
        if (blocks.Count == 1)
        {
            blockSums[0].Span.CopyTo(total);
            return;
        }

        // The merges of CombineBlocksInPlace; a node's value is either a block sum (read-only) or its block's scratch slot.
        Span<Merge> merges = stackalloc Merge[blocks.Count - 1];
        PlanMerges(shardCount, blocks, merges);
        foreach (var merge in merges)
        {
            Span<float> parent = merge.IsRoot ? total : ScratchSlot(scratch, merge.Left, length);
            Elementwise.Add(Value(merge.Left, merge.LeftInScratch), Value(merge.Right, merge.RightInScratch), parent);
        }

        ReadOnlySpan<float> Value(int buffer, bool inScratch) => inScratch ? scratch[buffer].AsSpan(0, length) : blockSums[buffer].Span;
    }

    /// <summary>
    /// Elements per chunk of <see cref="CombineBlocksScaledInPlace"/>: 8 KiB of each block and of each inner node, so a
    /// chunk's whole subtree stays in L1 while the blocks stream through memory once.
    /// </summary>
    internal const int ScaledCombineChunk = 2048;

    /// <summary>
    /// <see cref="CombineBlocks"/> times <paramref name="scale"/>, written over <c>blockSums[0]</c> (the other sums are only
    /// read): bitwise the tree's root rounded to float, then multiplied by <paramref name="scale"/> and rounded again, as
    /// combining and then scaling the total would give. It runs chunk by chunk, all levels of the tree on one chunk
    /// before the next, with the root's add and the multiplication in one operation: every block streams through memory
    /// once and nothing else does, where combining into a total and scaling it would take k - 1 passes and one more.
    /// The root overwrites a chunk of <c>blockSums[0]</c> only after every leaf of that chunk has been read.
    /// Each chunk of the total is also checked for NaN and ±Inf while it is still in L1, so that a caller who must
    /// reject a non-finite total (the parameter server) needs no pass of its own over it.
    /// </summary>
    /// <param name="threads">Threads that combine disjoint ranges of chunks at once (every element gets the same operations, so the split cannot change a bit).</param>
    /// <returns>True when every value of the total is finite; false when one or more is NaN or infinite.</returns>
    public static bool CombineBlocksScaledInPlace(int shardCount, IReadOnlyList<ShardBlock> blocks, IReadOnlyList<Memory<float>> blockSums, float scale, int threads = 1)
    {
        ArgumentNullException.ThrowIfNull(blockSums);
        return CombineBlocksScaled(shardCount, blocks, ReadOnly(blockSums), blockSums.Count == 0 ? default : blockSums[0], scale, threads);
    }

    /// <summary>
    /// <see cref="CombineBlocksScaledInPlace(int, IReadOnlyList{ShardBlock}, IReadOnlyList{Memory{float}}, float, int)"/> written
    /// into <paramref name="total"/> (which may be <c>blockSums[0]</c>) with every block sum only read: the same bits. For
    /// block sums the caller may not write, such as a transport's received tensors lent in place.
    /// </summary>
    public static bool CombineBlocksScaled(int shardCount, IReadOnlyList<ShardBlock> blocks, IReadOnlyList<ReadOnlyMemory<float>> blockSums, Memory<float> total, float scale, int threads = 1)
    {
        ArgumentNullException.ThrowIfNull(blockSums);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ValidateTiling(shardCount, blocks, blockSums.Count);
        int length = CheckLengths(blockSums, total);
        int chunks = (length + ScaledCombineChunk - 1) / ScaledCombineChunk;
        // Below a few chunks per thread waking a helper costs more than it saves.
        int parts = Math.Min(threads, chunks / MinChunksPerThread);
        if (parts <= 1) return CombineScaledRange(shardCount, blocks, blockSums, total, scale, 0, length);
        int nonFiniteParts = 0;
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, part =>
        {
            int start = (int)((long)chunks * part / parts) * ScaledCombineChunk;
            int end = Math.Min(length, (int)((long)chunks * (part + 1) / parts) * ScaledCombineChunk);
            if (!CombineScaledRange(shardCount, blocks, blockSums, total, scale, start, end)) Interlocked.Increment(ref nonFiniteParts);
        });
        return nonFiniteParts == 0;
    }

    private static ReadOnlyMemory<float>[] ReadOnly(IReadOnlyList<Memory<float>> buffers)
    {
        var readOnly = new ReadOnlyMemory<float>[buffers.Count];
        for (int i = 0; i < readOnly.Length; i++) readOnly[i] = buffers[i];
        return readOnly;
    }

    private const int MinChunksPerThread = 16;

    /// <summary>
    /// Called with each chunk of the total right after <see cref="CombineBlocksScaledInPlace(int, IReadOnlyList{ShardBlock}, IReadOnlyList{Memory{float}}, float, IReadOnlyList{int}, CombinedChunkVisitor, int)"/>
    /// wrote it (still in L1): its segment, its offset in the segment, its values (the visitor may change them), and whether it ends the segment.
    /// </summary>
    public delegate void CombinedChunkVisitor(int segment, int offsetInSegment, Span<float> values, bool lastOfSegment);

    /// <summary>
    /// <see cref="CombineBlocksScaledInPlace(int, IReadOnlyList{ShardBlock}, IReadOnlyList{Memory{float}}, float, int)"/> (the same
    /// total, bitwise) for a total cut into consecutive segments (a model's parameter slots) that <paramref name="visitor"/>
    /// sees chunk by chunk as they are written, so that it can measure each segment in order without a pass of its own: a
    /// chunk never straddles two segments and starts at a multiple of the chunk size within its segment, and one thread
    /// visits all chunks of a segment, in order. Threads take contiguous runs of whole segments (as near equal as the
    /// segments allow), so a segment of most of the total keeps most of the work on one thread.
    /// </summary>
    /// <param name="segmentLengths">Lengths of the segments in order; they add up to the total's length.</param>
    public static void CombineBlocksScaledInPlace(int shardCount, IReadOnlyList<ShardBlock> blocks, IReadOnlyList<Memory<float>> blockSums, float scale,
        IReadOnlyList<int> segmentLengths, CombinedChunkVisitor visitor, int threads = 1)
    {
        ArgumentNullException.ThrowIfNull(blockSums);
        CombineBlocksScaled(shardCount, blocks, ReadOnly(blockSums), blockSums.Count == 0 ? default : blockSums[0], scale, segmentLengths, visitor, threads);
    }

    /// <summary>
    /// The visiting <see cref="CombineBlocksScaledInPlace(int, IReadOnlyList{ShardBlock}, IReadOnlyList{Memory{float}}, float, IReadOnlyList{int}, CombinedChunkVisitor, int)"/>
    /// written into <paramref name="total"/>, every block sum only read.
    /// </summary>
    public static void CombineBlocksScaled(int shardCount, IReadOnlyList<ShardBlock> blocks, IReadOnlyList<ReadOnlyMemory<float>> blockSums, Memory<float> total, float scale,
        IReadOnlyList<int> segmentLengths, CombinedChunkVisitor visitor, int threads = 1)
    {
        ArgumentNullException.ThrowIfNull(blockSums);
        ArgumentNullException.ThrowIfNull(segmentLengths);
        ArgumentNullException.ThrowIfNull(visitor);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ValidateTiling(shardCount, blocks, blockSums.Count);
        int length = CheckLengths(blockSums, total);
        var starts = new int[segmentLengths.Count + 1];
        for (int k = 0; k < segmentLengths.Count; k++)
        {
            if (segmentLengths[k] < 0) throw new ArgumentException($"Segment {k} has a negative length ({segmentLengths[k]}).", nameof(segmentLengths));
            starts[k + 1] = checked(starts[k] + segmentLengths[k]);
        }
        if (starts[^1] != length)
            throw new ArgumentException($"The segments cover {starts[^1]} values but the block sums hold {length}; they must add up to the total.", nameof(segmentLengths));

        int parts = Math.Min(threads, (length + ScaledCombineChunk - 1) / ScaledCombineChunk / MinChunksPerThread);
        if (parts <= 1)
        {
            CombineSegments(shardCount, blocks, blockSums, total, scale, starts, 0, segmentLengths.Count, visitor);
            return;
        }
        // Part p starts at the segment boundary nearest to p/parts of the total (never before the previous part's start).
        var firstSegments = new int[parts + 1];
        firstSegments[parts] = segmentLengths.Count;
        for (int part = 1; part < parts; part++)
        {
            long target = (long)length * part / parts;
            int segment = firstSegments[part - 1];
            while (segment < segmentLengths.Count && Math.Abs(starts[segment + 1] - target) <= Math.Abs(starts[segment] - target)) segment++;
            firstSegments[part] = segment;
        }
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts },
            part => CombineSegments(shardCount, blocks, blockSums, total, scale, starts, firstSegments[part], firstSegments[part + 1], visitor));
    }

    private static void CombineSegments(int shardCount, IReadOnlyList<ShardBlock> blocks, IReadOnlyList<ReadOnlyMemory<float>> blockSums, Memory<float> total, float scale,
        int[] starts, int firstSegment, int endSegment, CombinedChunkVisitor visitor)
    {
        for (int segment = firstSegment; segment < endSegment; segment++)
            CombineScaledRange(shardCount, blocks, blockSums, total, scale, starts[segment], starts[segment + 1], (segment, visitor));
    }

    /// <summary>
    /// Elements [start, end) of <see cref="CombineBlocksScaledInPlace(int, IReadOnlyList{ShardBlock}, IReadOnlyList{Memory{float}}, float, int)"/>,
    /// chunk by chunk from <paramref name="start"/>, with a scratch of its own. Without a visitor each chunk is checked for
    /// NaN and ±Inf (true when all came out finite); with one (a whole segment) the visitor sees each chunk instead.
    /// </summary>
    private static bool CombineScaledRange(int shardCount, IReadOnlyList<ShardBlock> blocks, IReadOnlyList<ReadOnlyMemory<float>> blockSums, Memory<float> destination,
        float scale, int start, int end, (int Segment, CombinedChunkVisitor Visit)? visitor = null)
    {
        bool finite = true;
        bool Written(int offset, Span<float> total)
        {
            if (visitor is not { } v) return !Elementwise.HasNonFinite(total);
            v.Visit(v.Segment, offset - start, total, offset + total.Length == end);
            return true;
        }

        if (blocks.Count == 1)
        {
            for (int offset = start; offset < end; offset += ScaledCombineChunk)
            {
                int length = Math.Min(ScaledCombineChunk, end - offset);
                var chunk = destination.Span.Slice(offset, length);
                TensorPrimitives.Multiply(blockSums[0].Span.Slice(offset, length), scale, chunk);
                finite &= Written(offset, chunk);
            }
            return finite;
        }

        Span<Merge> merges = stackalloc Merge[blocks.Count - 1];
        PlanMerges(shardCount, blocks, merges);
        // One chunk per block position for the inner nodes below the root (a node lives in the slot of its leftmost block).
        float[] scratch = System.Buffers.ArrayPool<float>.Shared.Rent(blocks.Count * ScaledCombineChunk);
        try
        {
            for (int offset = start; offset < end; offset += ScaledCombineChunk)
            {
                int chunk = Math.Min(ScaledCombineChunk, end - offset);
                foreach (var merge in merges)
                {
                    var left = Value(merge.Left, merge.LeftInScratch, offset, chunk);
                    var right = Value(merge.Right, merge.RightInScratch, offset, chunk);
                    if (!merge.IsRoot)
                    {
                        TensorPrimitives.Add(left, right, scratch.AsSpan(merge.Left * ScaledCombineChunk, chunk));
                        continue;
                    }
                    var total = destination.Span.Slice(offset, chunk);
                    TensorPrimitives.AddMultiply(left, right, scale, total);
                    finite &= Written(offset, total);
                }
            }
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(scratch);
        }
        return finite;

        ReadOnlySpan<float> Value(int buffer, bool inScratch, int offset, int chunk)
            => inScratch ? scratch.AsSpan(buffer * ScaledCombineChunk, chunk) : blockSums[buffer].Span.Slice(offset, chunk);
    }

    /// <summary>One addition of the tree over a tiling: the node of block <c>Left</c> += that of block <c>Right</c>.</summary>
    private readonly record struct Merge(int Left, bool LeftInScratch, int Right, bool RightInScratch, bool IsRoot);

    /// <summary>
    /// The additions that combine the blocks of a tiling (validated by the caller) along the fixed tree, in the order
    /// CombineBlocksInPlace makes them: a left-to-right pass with a stack of complete subtrees, whose top two merge into
    /// their parent whenever they are siblings. A node that is the result of a merge is "in scratch".
    /// </summary>
    private static void PlanMerges(int shardCount, IReadOnlyList<ShardBlock> blocks, Span<Merge> merges)
    {
        Span<(int First, int Size, int Buffer, bool InScratch)> stack = stackalloc (int, int, int, bool)[BitOperations.Log2((uint)shardCount) + 2];
        int depth = 0, count = 0;
        for (int k = 0; k < blocks.Count; k++)
        {
            stack[depth++] = (blocks[k].FirstShard, blocks[k].ShardCount, k, false);
            while (depth >= 2)
            {
                var right = stack[depth - 1];
                var left = stack[depth - 2];
                if (left.Size != right.Size || left.First % (2 * left.Size) != 0) break;
                merges[count++] = new Merge(left.Buffer, left.InScratch, right.Buffer, right.InScratch, 2 * left.Size == shardCount);
                stack[depth - 2] = (left.First, 2 * left.Size, left.Buffer, true);
                depth--;
            }
        }
    }

    private static Span<float> ScratchSlot(float[]?[] scratch, int slot, int length)
    {
        if (scratch[slot] is not { } buffer || buffer.Length < length) scratch[slot] = buffer = new float[length];
        return buffer.AsSpan(0, length);
    }

    /// <summary>Throws, saying what is wrong, unless the blocks tile 0..shardCount-1 in order with whole subtrees, one sum each.</summary>
    private static void ValidateTiling(int shardCount, IReadOnlyList<ShardBlock> blocks, int sumCount)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        if (blocks.Count != sumCount)
            throw new ArgumentException($"Got {blocks.Count} blocks but {sumCount} block sums; give one sum per block.", "blockSums");
        if (blocks.Count == 0)
            throw new ArgumentException("There are no blocks to combine.", nameof(blocks));
        int next = 0;
        foreach (var block in blocks)
        {
            ShardPlan.ValidateBlock(block, shardCount);
            if (block.FirstShard != next)
                throw new ArgumentException($"Blocks must tile the shards in order without gaps or overlaps: expected a block starting at shard {next}, got [{block.FirstShard}, {block.EndShard}).", nameof(blocks));
            next = block.EndShard;
        }
        if (next != shardCount)
            throw new ArgumentException($"The blocks cover shards 0..{next - 1} but the tree has {shardCount}; every shard must belong to a block.", nameof(blocks));
    }

    // IEEE addition is correctly rounded elementwise, so SIMD and scalar lanes give the same bits. Elementwise.Add keeps
    // the sum in the caches (whole-buffer TensorPrimitives calls write large outputs past them), where the next step reads it.
    private static void AddInto(Span<float> left, ReadOnlySpan<float> right) => Elementwise.Add(left, right, left);

    private static int CheckLengths(IReadOnlyList<ReadOnlyMemory<float>> buffers, Memory<float> total)
    {
        int length = CheckLengths(buffers, static m => m.Length);
        if (total.Length != length)
            throw new ArgumentException($"The total holds {total.Length} values but the block sums hold {length}; it must hold as many.", nameof(total));
        return length;
    }

    /// <summary>The buffers' common length; throws naming the first that differs. Either memory type, without copying the list.</summary>
    private static int CheckLengths<T>(IReadOnlyList<T> buffers, Func<T, int> lengthOf)
    {
        int length = lengthOf(buffers[0]);
        for (int i = 1; i < buffers.Count; i++)
        {
            if (lengthOf(buffers[i]) != length)
                throw new ArgumentException($"All buffers of a reduction must have the same length: buffer 0 has {length} values, buffer {i} has {lengthOf(buffers[i])}.", nameof(buffers));
        }
        return length;
    }
}

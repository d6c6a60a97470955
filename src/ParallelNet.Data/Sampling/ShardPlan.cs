using System.Numerics;

namespace ParallelNet.Data;

/// <summary>A contiguous range of rows of the global batch.</summary>
public readonly record struct SampleRange(int Start, int Count)
{
    public int End => Start + Count;
}

/// <summary>
/// Consecutive virtual shards [FirstShard, FirstShard + ShardCount) that form one whole subtree of the
/// reduction tree: ShardCount is a power of two and FirstShard a multiple of it.
/// </summary>
public readonly record struct ShardBlock(int FirstShard, int ShardCount)
{
    public int EndShard => FirstShard + ShardCount;
    /// <summary>Height of the block's subtree (0 for a single shard).</summary>
    public int Level => BitOperations.Log2((uint)ShardCount);
}

/// <summary>
/// How a global batch of <see cref="BatchSize"/> samples is cut into <see cref="ShardCount"/> virtual
/// shards, and how the shards are dealt out to live workers.
/// <para>Shards: contiguous, in order; the first B mod S shards hold one sample more than the rest, so
/// sizes differ by at most 1 and earlier shards are larger. When B &lt; S the last S - B shards are
/// empty (they contribute zero gradients and still take their place in the tree).</para>
/// <para>Blocks: buddy-allocator style. With W live workers (W ≤ S), the tree is split level by
/// level; if W is not a power of two, P = the largest power of two below W, the first 2P - W workers
/// get blocks of S/P shards and the remaining 2(W - P) workers blocks of S/(2P). So S = 4, W = 3 gives
/// [0,1], [2], [3]. With W &gt; S only the first S workers get a block (one shard each).</para>
/// </summary>
public sealed class ShardPlan
{
    public ShardPlan(int batchSize, int shardCount)
    {
        if (batchSize < 0)
            throw new ArgumentOutOfRangeException(nameof(batchSize), $"The batch size must be non-negative, got {batchSize}.");
        if (shardCount < 1 || !BitOperations.IsPow2(shardCount))
            throw new ArgumentOutOfRangeException(nameof(shardCount), $"The number of virtual shards must be a power of two (1, 2, 4, 8, ...), got {shardCount}.");
        BatchSize = batchSize;
        ShardCount = shardCount;
    }

    public int BatchSize { get; }
    public int ShardCount { get; }

    /// <summary>The rows of the global batch that virtual shard <paramref name="shard"/> holds.</summary>
    public SampleRange Shard(int shard)
    {
        if ((uint)shard >= (uint)ShardCount)
            throw new ArgumentOutOfRangeException(nameof(shard), $"Shard {shard} does not exist; this plan has shards 0..{ShardCount - 1}.");
        int smallSize = BatchSize / ShardCount, larger = BatchSize % ShardCount;
        int start = shard * smallSize + Math.Min(shard, larger);
        return new SampleRange(start, smallSize + (shard < larger ? 1 : 0));
    }

    /// <summary>The rows of the global batch that a block of shards covers (contiguous).</summary>
    public SampleRange Samples(ShardBlock block)
    {
        ValidateBlock(block, ShardCount);
        int start = Shard(block.FirstShard).Start;
        return new SampleRange(start, Shard(block.EndShard - 1).End - start);
    }

    /// <summary>The block of the k-th live worker, k = 0..min(W, S)-1, in shard order.</summary>
    public IReadOnlyList<ShardBlock> AssignBlocks(int liveWorkers) => AssignBlocks(ShardCount, liveWorkers);

    public static IReadOnlyList<ShardBlock> AssignBlocks(int shardCount, int liveWorkers)
    {
        if (shardCount < 1 || !BitOperations.IsPow2(shardCount))
            throw new ArgumentOutOfRangeException(nameof(shardCount), $"The number of virtual shards must be a power of two, got {shardCount}.");
        if (liveWorkers < 1)
            throw new ArgumentOutOfRangeException(nameof(liveWorkers), $"At least one live worker is needed to plan a step, got {liveWorkers}.");
        int workers = Math.Min(liveWorkers, shardCount);
        int power = 1 << BitOperations.Log2((uint)workers); // largest power of two <= workers
        int bigSize = shardCount / power;
        int bigBlocks = 2 * power - workers;
        var blocks = new ShardBlock[workers];
        int next = 0;
        for (int k = 0; k < workers; k++)
        {
            int size = k < bigBlocks ? bigSize : bigSize / 2;
            blocks[k] = new ShardBlock(next, size);
            next += size;
        }
        return blocks;
    }

    /// <summary>Throws unless <paramref name="block"/> is an aligned power-of-two run of shards inside 0..shardCount-1.</summary>
    public static void ValidateBlock(ShardBlock block, int shardCount)
    {
        if (block.ShardCount < 1 || !BitOperations.IsPow2(block.ShardCount) || block.FirstShard < 0
            || block.FirstShard % block.ShardCount != 0 || block.EndShard > shardCount)
            throw new ArgumentException($"Block of shards [{block.FirstShard}, {block.EndShard}) is not a whole subtree of the reduction tree over {shardCount} shards: it needs a power-of-two length, a start that is a multiple of it, and to end by shard {shardCount}.");
    }
}

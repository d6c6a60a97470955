using FsCheck;
using FsCheck.Fluent;

namespace ParallelNet.Data.Tests;

public sealed class ShardPlanTests
{
    private static readonly Gen<int> ShardCounts = Gen.Elements(1, 2, 4, 8, 16, 32);

    [Fact]
    public void Shards_tile_the_batch_in_order_with_sizes_within_one_earlier_larger()
    {
        var cases = ShardCounts.Zip(Gen.Choose(0, 600));
        Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var (shards, batch) = c;
            var plan = new ShardPlan(batch, shards);
            int next = 0;
            var sizes = new List<int>();
            for (int s = 0; s < shards; s++)
            {
                var range = plan.Shard(s);
                if (range.Start != next) return false;
                next = range.End;
                sizes.Add(range.Count);
            }
            bool nonIncreasing = sizes.Zip(sizes.Skip(1)).All(p => p.First >= p.Second);
            bool emptyOnlyIfSmall = batch >= shards ? sizes.All(n => n > 0) : sizes.Count(n => n > 0) == batch;
            return next == batch && sizes.Max() - sizes.Min() <= 1 && nonIncreasing && emptyOnlyIfSmall;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Example_shard_ranges()
    {
        var plan = new ShardPlan(10, 4);
        Assert.Equal([new(0, 3), new(3, 3), new(6, 2), new(8, 2)], Enumerable.Range(0, 4).Select(plan.Shard));
        var small = new ShardPlan(2, 4);
        Assert.Equal([new(0, 1), new(1, 1), new(2, 0), new(2, 0)], Enumerable.Range(0, 4).Select(small.Shard));
    }

    [Theory]
    [InlineData(4, 3, "0+2 2+1 3+1")]
    [InlineData(4, 1, "0+4")]
    [InlineData(4, 2, "0+2 2+2")]
    [InlineData(4, 4, "0+1 1+1 2+1 3+1")]
    [InlineData(4, 7, "0+1 1+1 2+1 3+1")]
    [InlineData(8, 3, "0+4 4+2 6+2")]
    [InlineData(8, 5, "0+2 2+2 4+2 6+1 7+1")]
    [InlineData(8, 6, "0+2 2+2 4+1 5+1 6+1 7+1")]
    [InlineData(1, 3, "0+1")]
    public void Example_block_assignments(int shards, int workers, string expected)
    {
        var blocks = ShardPlan.AssignBlocks(shards, workers);
        Assert.Equal(expected, string.Join(" ", blocks.Select(b => $"{b.FirstShard}+{b.ShardCount}")));
    }

    [Fact]
    public void Blocks_are_aligned_subtrees_that_tile_the_shards_larger_first()
    {
        var cases = ShardCounts.Zip(Gen.Choose(1, 40));
        Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var (shards, workers) = c;
            var blocks = ShardPlan.AssignBlocks(shards, workers);
            int next = 0;
            foreach (var block in blocks)
            {
                ShardPlan.ValidateBlock(block, shards);
                if (block.FirstShard != next) return false;
                next = block.EndShard;
            }
            bool largerFirst = blocks.Zip(blocks.Skip(1)).All(p => p.First.ShardCount >= p.Second.ShardCount);
            bool withinFactorTwo = blocks.Max(b => b.ShardCount) <= 2 * blocks.Min(b => b.ShardCount);
            return next == shards && blocks.Count == Math.Min(workers, shards) && largerFirst && withinFactorTwo;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Block_sample_range_is_the_union_of_its_shards()
    {
        var plan = new ShardPlan(13, 8);
        var block = new ShardBlock(4, 4);
        Assert.Equal(new SampleRange(plan.Shard(4).Start, plan.Shard(7).End - plan.Shard(4).Start), plan.Samples(block));
        Assert.Equal(new SampleRange(0, 13), plan.Samples(new ShardBlock(0, 8)));
    }

    [Fact]
    public void Rejects_bad_arguments_with_clear_messages()
    {
        Assert.Contains("power of two", Assert.Throws<ArgumentOutOfRangeException>(() => new ShardPlan(8, 3)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ShardPlan(-1, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ShardPlan(8, 4).Shard(4));
        Assert.Throws<ArgumentOutOfRangeException>(() => ShardPlan.AssignBlocks(4, 0));
        Assert.Contains("whole subtree", Assert.Throws<ArgumentException>(() => new ShardPlan(8, 4).Samples(new ShardBlock(1, 2))).Message);
        Assert.Throws<ArgumentException>(() => new ShardPlan(8, 4).Samples(new ShardBlock(0, 3)));
        Assert.Throws<ArgumentException>(() => new ShardPlan(8, 4).Samples(new ShardBlock(4, 1)));
    }
}

namespace ParallelNet.Data.Tests;

public sealed class ReductionTreeTests
{
    // Values spread over many magnitudes so that any change in summation order changes the bits.
    private static float[][] RandomLeaves(Random random, int count, int length) =>
        Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, length)
            .Select(_ => (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-6, 7)))).ToArray()).ToArray();

    private static Memory<float>[] Copy(IEnumerable<float[]> buffers) => buffers.Select(b => (Memory<float>)b.ToArray()).ToArray();

    /// <summary>What the workers send: each block's subtree sum, reduced along the tree as a worker reduces it.</summary>
    private static Memory<float>[] BlockSums(float[][] leaves, IEnumerable<ShardBlock> tiling) => tiling.Select(b =>
    {
        var mine = Copy(leaves.Skip(b.FirstShard).Take(b.ShardCount));
        ReductionTree.SumInPlace(mine);
        return (Memory<float>)mine[0].ToArray();
    }).ToArray();

    private static float[] FullTree(float[][] leaves)
    {
        var copies = Copy(leaves);
        ReductionTree.SumInPlace(copies);
        return copies[0].ToArray();
    }

    private static float[] ByBlocks(float[][] leaves, IReadOnlyList<ShardBlock> blocks)
    {
        var blockSums = new Memory<float>[blocks.Count];
        for (int k = 0; k < blocks.Count; k++)
        {
            var mine = Copy(leaves.Skip(blocks[k].FirstShard).Take(blocks[k].ShardCount));
            ReductionTree.SumInPlace(mine); // what the worker holding block k does
            blockSums[k] = mine[0];
        }
        ReductionTree.CombineBlocksInPlace(leaves.Length, blocks, blockSums); // the parameter server
        return blockSums[0].ToArray();
    }

    private static IEnumerable<List<ShardBlock>> AllTilings(int first, int size)
    {
        yield return [new ShardBlock(first, size)];
        if (size == 1) yield break;
        foreach (var left in AllTilings(first, size / 2))
            foreach (var right in AllTilings(first + size / 2, size / 2))
                yield return [.. left, .. right];
    }

    [Fact]
    public void Follows_the_fixed_pairwise_tree()
    {
        float[][] leaves = [[1e8f, 1], [1, 2], [-1e8f, 3], [1, 4]];
        var expected = new[] { (1e8f + 1f) + (-1e8f + 1f), (1f + 2f) + (3f + 4f) };
        Assert.Equal(expected, FullTree(leaves));
        // A left-to-right sum would give other bits here, so the test pins the order.
        Assert.NotEqual(((1e8f + 1f) + -1e8f) + 1f, expected[0]);
    }

    [Fact]
    public void Blocks_from_the_shard_plan_reduce_bitwise_like_the_full_tree()
    {
        var random = new Random(2024);
        for (int trial = 0; trial < 25; trial++)
        {
            int shards = new[] { 1, 2, 4, 8 }[random.Next(4)];
            var leaves = RandomLeaves(random, shards, random.Next(1, 70));
            var full = FullTree(leaves);
            for (int workers = 1; workers <= shards; workers++)
            {
                var byBlocks = ByBlocks(leaves, ShardPlan.AssignBlocks(shards, workers));
                Assert.True(full.AsSpan().SequenceEqual(byBlocks), $"S={shards}, W={workers}: block reduction differs from the full tree.");
            }
        }
    }

    [Fact]
    public void Every_grouping_into_whole_subtrees_gives_the_same_bits()
    {
        var random = new Random(7);
        var leaves = RandomLeaves(random, 8, 33);
        var full = FullTree(leaves);
        var tilings = AllTilings(0, 8).ToList();
        Assert.Equal(26, tilings.Count); // 1 + 5 * 5 tilings of an 8-leaf tree
        foreach (var tiling in tilings)
            Assert.True(full.AsSpan().SequenceEqual(ByBlocks(leaves, tiling)), string.Join(" ", tiling));
    }

    [Fact]
    public void Combining_read_only_block_sums_into_a_total_gives_the_in_place_bits_and_leaves_the_sums_untouched()
    {
        var random = new Random(11);
        var leaves = RandomLeaves(random, 8, 41);
        var full = FullTree(leaves);
        var scratch = new float[]?[8]; // kept across calls, as the parameter server keeps it across steps
        foreach (var tiling in AllTilings(0, 8))
        {
            var blockSums = tiling.Select(b =>
            {
                var mine = Copy(leaves.Skip(b.FirstShard).Take(b.ShardCount));
                ReductionTree.SumInPlace(mine);
                return mine[0].ToArray();
            }).ToArray();
            var before = blockSums.Select(b => b.ToArray()).ToArray();
            var total = new float[41];

            ReductionTree.CombineBlocks(8, tiling, blockSums.Select(b => (ReadOnlyMemory<float>)b).ToArray(), total, scratch);

            Assert.True(full.AsSpan().SequenceEqual(total), string.Join(" ", tiling));
            for (int k = 0; k < blockSums.Length; k++) Assert.Equal(before[k], blockSums[k]);
        }
    }

    [Fact]
    public void Combining_into_a_total_refuses_what_the_in_place_combination_refuses_and_mismatched_lengths()
    {
        ReadOnlyMemory<float>[] sums = [new float[] { 1f }, new float[] { 2f }];
        var total = new float[1];
        var scratch = new float[]?[2];
        Assert.Throws<ArgumentException>(() => ReductionTree.CombineBlocks(4, [new(0, 2), new(3, 1)], sums, total, scratch));
        Assert.Throws<ArgumentException>(() => ReductionTree.CombineBlocks(4, [new(0, 2), new(2, 1)], sums, total, scratch));
        Assert.Throws<ArgumentException>(() => ReductionTree.CombineBlocks(2, [new(0, 1), new(1, 1)], sums, new float[2], scratch));
        Assert.Throws<ArgumentException>(() => ReductionTree.CombineBlocks(2, [new(0, 1), new(1, 1)], sums, total, new float[]?[1]));
    }

    [Fact]
    public void Combining_scaled_in_place_gives_the_total_times_the_scale_bitwise_and_reads_the_other_blocks_only()
    {
        var random = new Random(17);
        // Three chunks, the last one partial, so chunk edges and the tail are covered.
        int length = 2 * ReductionTree.ScaledCombineChunk + 37;
        var leaves = RandomLeaves(random, 8, length);
        const float scale = 1f / 96;
        // The naive twin: the whole tree in order, then every element multiplied by the scale.
        var expected = FullTree(leaves).Select(v => v * scale).ToArray();
        foreach (var tiling in AllTilings(0, 8))
        {
            var blockSums = BlockSums(leaves, tiling);
            var others = blockSums.Skip(1).Select(b => b.ToArray()).ToArray();

            ReductionTree.CombineBlocksScaledInPlace(8, tiling, blockSums, scale);

            Assert.True(expected.AsSpan().SequenceEqual(blockSums[0].Span), string.Join(" ", tiling));
            for (int k = 1; k < blockSums.Length; k++) Assert.Equal(others[k - 1], blockSums[k].ToArray());
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Combining_scaled_into_a_total_of_its_own_gives_the_in_place_bits_and_reads_every_block_only(int threads)
    {
        var random = new Random(29);
        int length = 40 * ReductionTree.ScaledCombineChunk + 37;
        var leaves = RandomLeaves(random, 8, length);
        const float scale = 1f / 96;
        int[] segments = [length - 1000, 990, 10];
        foreach (var tiling in new List<ShardBlock>[] { [new(0, 8)], [new(0, 4), new(4, 4)], [new(0, 2), new(2, 2), new(4, 4)] })
        {
            var inPlace = BlockSums(leaves, tiling);
            ReductionTree.CombineBlocksScaledInPlace(8, tiling, inPlace, scale, threads);
            var blockSums = BlockSums(leaves, tiling);
            var before = blockSums.Select(b => b.ToArray()).ToArray();
            var readOnly = blockSums.Select(b => (ReadOnlyMemory<float>)b).ToArray();
            var total = new float[length];
            var visited = new float[length];

            Assert.True(ReductionTree.CombineBlocksScaled(8, tiling, readOnly, total, scale, threads));
            ReductionTree.CombineBlocksScaled(8, tiling, readOnly, visited, scale, segments, (_, _, _, _) => { }, threads);

            Assert.True(inPlace[0].Span.SequenceEqual(total), string.Join(" ", tiling));
            Assert.True(inPlace[0].Span.SequenceEqual(visited), string.Join(" ", tiling));
            for (int k = 0; k < blockSums.Length; k++) Assert.Equal(before[k], blockSums[k].ToArray());
        }
        Assert.Throws<ArgumentException>(() => ReductionTree.CombineBlocksScaled(2, [new(0, 1), new(1, 1)], [new float[] { 1f }, new float[] { 2f }], new float[2], 0.5f));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Combining_scaled_in_place_on_several_threads_is_bitwise_the_one_thread_combination(int threads)
    {
        var random = new Random(23);
        // Enough chunks for every thread, the last one partial.
        int length = 50 * ReductionTree.ScaledCombineChunk + 11;
        var leaves = RandomLeaves(random, 4, length);
        ShardBlock[] tiling = [new(0, 2), new(2, 1), new(3, 1)];
        var one = BlockSums(leaves, tiling);
        var several = BlockSums(leaves, tiling);

        ReductionTree.CombineBlocksScaledInPlace(4, tiling, one, 1f / 3);
        ReductionTree.CombineBlocksScaledInPlace(4, tiling, several, 1f / 3, threads);

        Assert.True(one[0].Span.SequenceEqual(several[0].Span));
    }

    /// <summary>Lengths around the chunk: below one, exactly one, one more, and a partial last chunk among many (for the split over threads).</summary>
    public static TheoryData<int, int> ChunkEdgeLengthsAndThreads()
    {
        var cases = new TheoryData<int, int>();
        foreach (int length in new[] { 1, 7, ReductionTree.ScaledCombineChunk, ReductionTree.ScaledCombineChunk + 1, 40 * ReductionTree.ScaledCombineChunk + 13 })
            foreach (int threads in new[] { 1, 2, 3 })
                cases.Add(length, threads);
        return cases;
    }

    [Theory]
    [MemberData(nameof(ChunkEdgeLengthsAndThreads))]
    public void Combining_scaled_in_place_says_whether_the_total_is_finite_and_writes_the_same_total_either_way(int length, int threads)
    {
        var random = new Random(length + threads);
        // Moderate magnitudes: only the planted values make the total non-finite.
        var leaves = Enumerable.Range(0, 4).Select(_ => Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray()).ToArray();
        const float scale = 1f / 96;
        // First element, middle, and the last element (in the last, possibly partial, chunk).
        int[] positions = [0, length / 2, length - 1];
        var plants = new List<(int Leaf, int Position, float Value)?> { null };
        foreach (int position in positions)
        {
            plants.Add((3, position, float.NaN));
            plants.Add((0, position, float.PositiveInfinity));
            // Finite leaves whose sum overflows: the check looks at the total, not at what came in.
            plants.Add((1, position, float.MaxValue));
        }
        foreach (var tiling in new List<ShardBlock>[] { [new(0, 4)], [new(0, 2), new(2, 2)], [new(0, 2), new(2, 1), new(3, 1)] })
        {
            foreach (var plant in plants)
            {
                var planted = leaves.Select(l => l.ToArray()).ToArray();
                if (plant is { } p)
                {
                    planted[p.Leaf][p.Position] = p.Value;
                    if (p.Value == float.MaxValue) planted[p.Leaf ^ 1][p.Position] = float.MaxValue;
                }
                var expected = FullTree(planted).Select(v => v * scale).ToArray();
                var blockSums = BlockSums(planted, tiling);

                bool finite = ReductionTree.CombineBlocksScaledInPlace(4, tiling, blockSums, scale, threads);

                string what = $"{string.Join(" ", tiling)}, {plant?.ToString() ?? "nothing planted"}";
                Assert.True(expected.AsSpan().SequenceEqual(blockSums[0].Span), what);
                Assert.Equal(expected.All(float.IsFinite), finite);
                Assert.True(plant is null == finite, what);
            }
        }
    }

    public static TheoryData<int[], int> SegmentsAndThreads()
    {
        int chunk = ReductionTree.ScaledCombineChunk;
        var cases = new TheoryData<int[], int>();
        // A model's slots: a big weight, a bias, an empty slot, odd lengths, a slot of exactly one chunk, one that ends the total mid-chunk.
        int[][] layouts = [[7], [40 * chunk + 3], [20 * chunk + 5, 512, 0, 17, chunk, 15 * chunk + 9, 10], [3, 30 * chunk, 1]];
        foreach (var segments in layouts)
            foreach (int threads in new[] { 1, 2, 3 })
                cases.Add(segments, threads);
        return cases;
    }

    [Theory]
    [MemberData(nameof(SegmentsAndThreads))]
    public void Combining_scaled_in_place_by_segments_writes_the_same_total_and_shows_each_segment_once_in_order_in_chunks(int[] segments, int threads)
    {
        int length = segments.Sum();
        var random = new Random(length + threads);
        var leaves = RandomLeaves(random, 4, length);
        const float scale = 1f / 48;
        ShardBlock[] tiling = [new(0, 2), new(2, 1), new(3, 1)];
        var plain = BlockSums(leaves, tiling);
        ReductionTree.CombineBlocksScaledInPlace(4, tiling, plain, scale);
        var bySegments = BlockSums(leaves, tiling);
        var seen = segments.Select(_ => new List<(int Offset, float[] Values, bool Last, int Thread)>()).ToArray();

        ReductionTree.CombineBlocksScaledInPlace(4, tiling, bySegments, scale, segments, (segment, offset, values, last) =>
        {
            lock (seen) seen[segment].Add((offset, values.ToArray(), last, Environment.CurrentManagedThreadId));
            values.Fill(segment); // the visitor may change what it sees: that is what stays in the total
        }, threads);

        int start = 0;
        for (int k = 0; k < segments.Length; k++)
        {
            var chunks = seen[k];
            // Every chunk of the segment, in order, from offset 0 in steps of the chunk size, the last one flagged, on one thread.
            Assert.Equal(Enumerable.Range(0, chunks.Count).Select(c => c * ReductionTree.ScaledCombineChunk), chunks.Select(c => c.Offset));
            Assert.Equal(segments[k], chunks.Sum(c => c.Values.Length));
            Assert.Equal(Enumerable.Range(0, chunks.Count).Select(c => c == chunks.Count - 1), chunks.Select(c => c.Last));
            Assert.Single(chunks.Select(c => c.Thread).Distinct().DefaultIfEmpty());
            // What the visitor saw is the plain combination's total; what it wrote stays.
            Assert.True(plain[0].Span.Slice(start, segments[k]).SequenceEqual(chunks.SelectMany(c => c.Values).ToArray()), $"segment {k}");
            Assert.True(bySegments[0].Span.Slice(start, segments[k]).ToArray().All(v => v == k), $"segment {k} after the visitor");
            start += segments[k];
        }
    }

    [Fact]
    public void Combining_scaled_in_place_by_segments_refuses_segments_that_do_not_cover_the_total()
    {
        ReductionTree.CombinedChunkVisitor ignore = (_, _, _, _) => { };
        Assert.Throws<ArgumentException>(() => ReductionTree.CombineBlocksScaledInPlace(2, [new(0, 1), new(1, 1)], Copy([[1f, 2f], [3f, 4f]]), 0.5f, [1], ignore));
        Assert.Throws<ArgumentException>(() => ReductionTree.CombineBlocksScaledInPlace(2, [new(0, 1), new(1, 1)], Copy([[1f, 2f], [3f, 4f]]), 0.5f, [3, -1], ignore));
    }

    [Fact]
    public void Combining_scaled_in_place_refuses_bad_tilings_and_mismatched_lengths()
    {
        Assert.Throws<ArgumentException>(() => ReductionTree.CombineBlocksScaledInPlace(4, [new(0, 2), new(3, 1)], Copy([[1f], [2f]]), 0.5f));
        Assert.Throws<ArgumentException>(() => ReductionTree.CombineBlocksScaledInPlace(4, [new(0, 2), new(2, 1)], Copy([[1f], [2f]]), 0.5f));
        Assert.Throws<ArgumentException>(() => ReductionTree.CombineBlocksScaledInPlace(2, [new(0, 1), new(1, 1)], Copy([[1f], [2f, 3f]]), 0.5f));
    }

    [Fact]
    public void Float_array_overload_matches()
    {
        var leaves = RandomLeaves(new Random(3), 4, 9);
        var expected = FullTree(leaves);
        var arrays = leaves.Select(l => l.ToArray()).ToList();
        ReductionTree.SumInPlace(arrays);
        Assert.Equal(expected, arrays[0]);
    }

    [Fact]
    public void Rejects_bad_inputs()
    {
        Assert.Throws<ArgumentException>(() => ReductionTree.SumInPlace(Copy([[1f], [2f], [3f]])));
        Assert.Throws<ArgumentException>(() => ReductionTree.SumInPlace(Copy([[1f], [2f, 3f]])));
        var sums = Copy([[1f], [2f]]);
        Assert.Throws<ArgumentException>(() => ReductionTree.CombineBlocksInPlace(4, [new(0, 2), new(3, 1)], sums));
        Assert.Throws<ArgumentException>(() => ReductionTree.CombineBlocksInPlace(4, [new(0, 2), new(2, 1)], sums));
        Assert.Throws<ArgumentException>(() => ReductionTree.CombineBlocksInPlace(4, [new(1, 2), new(3, 1)], sums));
    }
}

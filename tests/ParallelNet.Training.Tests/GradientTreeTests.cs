using ParallelNet.Tensors;
using ParallelNet.Tensors.Cpu;

namespace ParallelNet.Training.Tests;

public sealed class GradientTreeTests
{
    private static Tensor[] RandomLeaves(int count, int length, int seed)
    {
        var random = new Random(seed);
        // Magnitudes far apart, so any other summation order gives other bits.
        return Enumerable.Range(0, count).Select(_ => Tensor.FromArray(Enumerable.Range(0, length)
            .Select(_ => (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-6, 7)))).ToArray(), new Shape(length))).ToArray();
    }

    private static Tensor[] Clone(Tensor[] leaves) => leaves.Select(t => Tensor.FromArray(t.Span.ToArray(), t.Shape)).ToArray();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public void Reducing_into_a_destination_gives_the_in_place_bits_and_never_writes_the_last_leaf(int count)
    {
        var compute = new CpuCompute(1);
        var leaves = RandomLeaves(count, 37, seed: count);
        var inPlace = Clone(leaves);
        GradientTree.Reduce(compute, inPlace, 0, count);
        var lastLeaf = leaves[^1].Span.ToArray();
        var destination = Tensor.Zeros(37);

        GradientTree.ReduceInto(compute, leaves, 0, count, destination);

        Assert.True(inPlace[0].Span.SequenceEqual(destination.Span));
        Assert.True(lastLeaf.AsSpan().SequenceEqual(leaves[^1].Span));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public void Reducing_into_the_last_leaf_itself_gives_the_in_place_bits(int count)
    {
        var compute = new CpuCompute(1);
        var leaves = RandomLeaves(count, 37, seed: 10 + count);
        var inPlace = Clone(leaves);
        GradientTree.Reduce(compute, inPlace, 0, count);

        GradientTree.ReduceInto(compute, leaves, 0, count, leaves[^1]);

        Assert.True(inPlace[0].Span.SequenceEqual(leaves[^1].Span));
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(4, 2)]
    [InlineData(8, 3)]
    public void Reducing_a_long_block_over_several_threads_into_its_last_leaf_gives_the_in_place_bits(int count, int threads)
    {
        // Longer than a chunk and than the per-thread minimum, with a ragged end: every split point and chunk edge is crossed.
        const int length = 3 * (1 << 16) + 4099;
        var leaves = RandomLeaves(count, length, seed: 20 + count);
        var inPlace = Clone(leaves);
        GradientTree.Reduce(new CpuCompute(1), inPlace, 0, count);

        GradientTree.ReduceInto(new CpuCompute(threads), leaves, 0, count, leaves[^1]);

        Assert.True(inPlace[0].Span.SequenceEqual(leaves[^1].Span));
    }

    [Fact]
    public void A_block_that_is_not_a_power_of_two_is_refused()
    {
        var leaves = RandomLeaves(3, 4, seed: 1);
        var error = Assert.Throws<ArgumentException>(() => GradientTree.ReduceInto(new CpuCompute(1), leaves, 0, 3, Tensor.Zeros(4)));
        Assert.Contains("power-of-two", error.Message);
    }
}

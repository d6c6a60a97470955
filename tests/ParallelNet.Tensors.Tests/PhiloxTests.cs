using ParallelNet.Tensors.Random;

namespace ParallelNet.Tensors.Tests;

public class PhiloxTests
{
    // Known answers of Philox-4x32-10 from the Random123 distribution (kat_vectors).
    [Fact]
    public void Block_MatchesRandom123KnownAnswer_ForZeroKeyAndCounter()
    {
        var (x0, x1, x2, x3) = Philox.Block(0, 0, 0);
        Assert.Equal((0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u), (x0, x1, x2, x3));
    }

    [Fact]
    public void Block_MatchesRandom123KnownAnswer_ForPiDigits()
    {
        // Random123's kat_vectors line is "ctr 243f6a88 85a308d3 13198a2e 03707344, key a4093822 299f31d0",
        // i.e. k0 = 0xa4093822 and k1 = 0x299f31d0. Block takes the key as k1:k0 and the counter as
        // (hi = c3:c2, lo = c1:c0). (Reading the key the other way round gives b9afa702..., not this vector.)
        const ulong key = 0x299f31d0_a4093822UL;
        const ulong counterLo = 0x85a308d3_243f6a88UL, counterHi = 0x03707344_13198a2eUL;
        var (x0, x1, x2, x3) = Philox.Block(key, counterHi, counterLo);
        Assert.Equal((0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u), (x0, x1, x2, x3));
    }

    [Fact]
    public void RandomStream_ElementsAreTheWordsOfConsecutiveBlocks()
    {
        var stream = new RandomStream(0, 0);
        Assert.Equal([0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u], [stream.Bits(0), stream.Bits(1), stream.Bits(2), stream.Bits(3)]);
        var (y0, _, _, y3) = Philox.Block(0, 0, 1);
        Assert.Equal(y0, stream.Bits(4));
        Assert.Equal(y3, stream.Bits(7));
    }

    [Fact]
    public void FillUniform_FromAnUnalignedStart_EqualsUniformPerElement()
    {
        var stream = RandomStream.For(42, RandomPurpose.Dropout, 1, 2, 3);
        var filled = new float[11];
        stream.FillUniform(6, filled);
        for (int i = 0; i < filled.Length; i++) Assert.Equal(stream.Uniform((ulong)(6 + i)), filled[i]);
    }

    [Theory]
    [InlineData(0UL, 64)]
    [InlineData(3UL, 70)]
    [InlineData(0x3_FFFF_FFE0UL, 100)] // block counters crossing 2^32 carry into the second counter word
    [InlineData(5UL, 15)]
    public void FillUniform_VectorBlocks_EqualUniformPerElement(ulong start, int length)
    {
        var stream = RandomStream.For(0x1234_5678_9ABC_DEF0UL, RandomPurpose.Dropout, 7, 8, 9);
        var filled = new float[length];
        stream.FillUniform(start, filled);
        for (int i = 0; i < filled.Length; i++) Assert.Equal(stream.Uniform(start + (ulong)i), filled[i]);
    }
}

using System.Numerics.Tensors;
using FsCheck;
using FsCheck.Fluent;
using ParallelNet.Tensors.Cpu.Gemm;

namespace ParallelNet.Tensors.Tests.Gemm;

/// <summary>The fused tree sum of row-block products (a weight gradient summed over virtual shards) against its unfused twin.</summary>
public class BlockTreeGemmProperties
{
    private static readonly Gen<(int[] Blocks, int M, int N, int Seed)> Problems =
        from levels in Gen.Choose(0, 3)
        from blocks in Gen.ArrayOf(Gen.Choose(0, 70), 1 << levels)
        from m in Gen.Choose(1, 90)
        from n in Gen.Choose(1, 300)
        from seed in Gen.Choose(0, 1_000_000)
        select (blocks, m, n, seed);

    [Fact]
    public void EqualsPerBlockProductsSummedAlongTheTreeBitwise()
    {
        Property property = Prop.ForAll(Problems.ToArbitrary(), problem =>
        {
            var (blocks, m, n, seed) = problem;
            int rows = blocks.Sum();
            float[] a = GemmTestData.Random(rows * m, seed), b = GemmTestData.Random(rows * n, seed + 1);
            float[] expected = PerBlockTreeSum(blocks, m, n, a, b);
            float[] oneThread = GemmTestData.Random(m * n, seed + 2), twoThreads = GemmTestData.Random(m * n, seed + 3);
            CpuGemm.MultiplyTransposedBlockTree(blocks, m, n, a, b, oneThread, threads: 1);
            CpuGemm.MultiplyTransposedBlockTree(blocks, m, n, a, b, twoThreads, threads: 2);
            // Against the naive twin of the whole product: the tree only regroups the sum over rows.
            float[] naive = new float[m * n];
            NaiveGemm.Multiply(true, false, m, n, rows, 1f, a, b, 0f, naive);
            GemmTestData.AssertClose(true, false, m, n, rows, 1f, a, b, 0f, naive, naive, oneThread, $"blocks [{string.Join(",", blocks)}] m={m} n={n}");
            return Bits(expected).SequenceEqual(Bits(oneThread)) && Bits(expected).SequenceEqual(Bits(twoThreads));
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(80), property);
    }

    [Fact]
    public void TheMlpsFirstLayerAtFourShardsMatchesBitwise()
    {
        int[] blocks = [32, 32, 32, 32];
        int m = 512, n = 784, rows = 128;
        float[] a = GemmTestData.Random(rows * m, 1), b = GemmTestData.Random(rows * n, 2);
        float[] expected = PerBlockTreeSum(blocks, m, n, a, b), actual = new float[m * n];
        CpuGemm.MultiplyTransposedBlockTree(blocks, m, n, a, b, actual, threads: 2);
        Assert.True(Bits(expected).SequenceEqual(Bits(actual)));
    }

    [Fact]
    public void RejectsBadBlocksAndShortOperands()
    {
        float[] buffer = new float[100];
        Assert.Contains("power-of-two", Assert.Throws<ArgumentException>(() => CpuGemm.MultiplyTransposedBlockTree([1, 1, 1], 2, 2, buffer, buffer, buffer, 1)).Message);
        Assert.Contains("cannot have -1", Assert.Throws<ArgumentOutOfRangeException>(() => CpuGemm.MultiplyTransposedBlockTree([1, -1], 2, 2, buffer, buffer, buffer, 1)).Message);
        Assert.Contains("operand A", Assert.Throws<ArgumentException>(() => CpuGemm.MultiplyTransposedBlockTree([30, 30], 2, 2, buffer, buffer, buffer, 1)).Message);
    }

    // The unfused twin: every block's product into a zeroed buffer of its own, then level by level left += right.
    private static float[] PerBlockTreeSum(int[] blocks, int m, int n, float[] a, float[] b)
    {
        var buffers = new float[blocks.Length][];
        int start = 0;
        for (int s = 0; s < blocks.Length; s++)
        {
            buffers[s] = new float[m * n];
            CpuGemm.Multiply(true, false, m, n, blocks[s], 1f, a.AsSpan(start * m), b.AsSpan(start * n), 1f, buffers[s], threads: 1);
            start += blocks[s];
        }
        for (int width = 1; width < blocks.Length; width *= 2)
            for (int left = 0; left < blocks.Length; left += 2 * width)
                TensorPrimitives.Add(buffers[left], buffers[left + width], buffers[left]);
        return buffers[0];
    }

    private static IEnumerable<int> Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits);
}

using FsCheck;
using FsCheck.Fluent;
using ParallelNet.Tensors.Cpu;
using ParallelNet.Tensors.Cpu.Gemm;

namespace ParallelNet.Tensors.Tests.Gemm;

/// <summary>A product over row blocks (virtual shards batched into one pass) must give every block the bits of its own product.</summary>
public class RowBlockGemmProperties
{
    private static readonly Gen<(int[] Blocks, int N, int K, bool TransposeB, int Seed)> Problems =
        from blockCount in Gen.Choose(1, 5)
        from blocks in Gen.ArrayOf(Gen.Choose(0, 70), blockCount)
        from n in Gen.Choose(1, 90)
        from k in Gen.Choose(0, 300)
        from transposeB in Gen.Elements(false, true)
        from seed in Gen.Choose(0, 1_000_000)
        select (blocks, n, k, transposeB, seed);

    [Fact]
    public void EveryBlockGetsTheBitsOfItsOwnProductAndMatchesTheNaiveTwin()
    {
        Property property = Prop.ForAll(Problems.ToArbitrary(), problem =>
        {
            var (blocks, n, k, transposeB, seed) = problem;
            int m = blocks.Sum();
            float[] a = GemmTestData.Random(m * k, seed), b = GemmTestData.Random(k * n, seed + 1), c = GemmTestData.Random(m * n, seed + 2);
            float[] expected = (float[])c.Clone(), perBlock = (float[])c.Clone(), batched = (float[])c.Clone(), batchedTwoThreads = (float[])c.Clone();
            NaiveGemm.Multiply(false, transposeB, m, n, k, 0.75f, a, b, -0.5f, expected);
            int start = 0;
            foreach (int rows in blocks)
            {
                CpuGemm.Multiply(false, transposeB, rows, n, k, 0.75f, a.AsSpan(start * k), b, -0.5f, perBlock.AsSpan(start * n), threads: 1);
                start += rows;
            }
            CpuGemm.MultiplyRowBlocks(blocks, transposeB, n, k, 0.75f, a, b, -0.5f, batched, threads: 1);
            CpuGemm.MultiplyRowBlocks(blocks, transposeB, n, k, 0.75f, a, b, -0.5f, batchedTwoThreads, threads: 2);
            GemmTestData.AssertClose(false, transposeB, m, n, k, 0.75f, a, b, -0.5f, c, expected, batched, $"blocks [{string.Join(",", blocks)}] n={n} k={k} tB={transposeB}");
            return batched.AsSpan().SequenceEqual(perBlock) && batchedTwoThreads.AsSpan().SequenceEqual(perBlock);
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(80), property);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ShardSizedBlocksOfTheMlpMatchPerShardProductsThroughTheBackendSeam(bool transposeB)
    {
        // The mlp's shapes at S = 4 of a 128 batch, and of the epoch's last batch of 96 (25/25/23/23 rows).
        foreach (int[] blocks in new[] { new[] { 32, 32, 32, 32 }, new[] { 24, 24, 24, 24 }, new[] { 25, 25, 23, 23 } })
        {
            int m = blocks.Sum(), n = 512, k = 784;
            var compute = new CpuCompute(2);
            Tensor a = compute.Allocate(new Shape(m, k)), b = compute.Allocate(new Shape(transposeB ? n : k, transposeB ? k : n));
            Tensor batched = compute.Allocate(new Shape(m, n)), perBlock = compute.Allocate(new Shape(m, n));
            GemmTestData.Random(m * k, m).CopyTo(a.Span);
            GemmTestData.Random(k * n, n).CopyTo(b.Span);
            ((ICompute)compute).GemmRowBlocks(blocks, transposeB, n, k, 1f, a, b, 0f, batched);
            int start = 0;
            foreach (int rows in blocks)
            {
                compute.Gemm(false, transposeB, rows, n, k, 1f, a.Rows(start, rows), b, 0f, perBlock.Rows(start, rows));
                start += rows;
            }
            Assert.True(batched.Span.SequenceEqual(perBlock.Span), $"blocks [{string.Join(",", blocks)}] tB={transposeB}");
        }
    }
}

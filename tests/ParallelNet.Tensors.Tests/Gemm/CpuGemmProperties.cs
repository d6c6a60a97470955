using FsCheck;
using FsCheck.Fluent;
using ParallelNet.Tensors.Cpu.Gemm;
using ParallelNet.Tensors.Cpu.Gemm.Internal;

namespace ParallelNet.Tensors.Tests.Gemm;

public class CpuGemmProperties
{
    private static readonly Gen<(int M, int N, int K, bool TransposeA, bool TransposeB, int Seed)> Problems =
        from m in Gen.Choose(1, 48)
        from n in Gen.Choose(1, 80)
        from k in Gen.Choose(0, 320)
        from transposeA in Gen.Elements(false, true)
        from transposeB in Gen.Elements(false, true)
        from seed in Gen.Choose(0, 1_000_000)
        select (m, n, k, transposeA, transposeB, seed);

    [Fact]
    public void AnyShapeMatchesNaiveTwinAndIsTheSameForOneAndThreeThreads()
    {
        Property property = Prop.ForAll(Problems.ToArbitrary(), problem =>
        {
            var (m, n, k, transposeA, transposeB, seed) = problem;
            float[] a = GemmTestData.Random(m * k, seed), b = GemmTestData.Random(k * n, seed + 1), c = GemmTestData.Random(m * n, seed + 2);
            float[] expected = (float[])c.Clone(), oneThread = (float[])c.Clone(), threeThreads = (float[])c.Clone();
            NaiveGemm.Multiply(transposeA, transposeB, m, n, k, -1.25f, a, b, 0.5f, expected);
            CpuGemm.Multiply(transposeA, transposeB, m, n, k, -1.25f, a, b, 0.5f, oneThread, threads: 1);
            CpuGemm.Multiply(transposeA, transposeB, m, n, k, -1.25f, a, b, 0.5f, threeThreads, threads: 3);
            GemmTestData.AssertClose(transposeA, transposeB, m, n, k, -1.25f, a, b, 0.5f, c, expected, oneThread, $"{problem}");
            return oneThread.AsSpan().SequenceEqual(threeThreads);
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(60), property);
    }

    private static readonly Gen<(int M, int N, int K, int Seed)> DotProductProblems =
        from m in Gen.Choose(1, 48)
        from n in Gen.Choose(1, 80)
        from k in Gen.Choose(1, 320)
        from seed in Gen.Choose(0, 1_000_000)
        select (m, n, k, seed);

    [Fact]
    public void DotProductPathMatchesNaiveTwinAndGivesEveryRowTheSameArithmetic()
    {
        Property property = Prop.ForAll(DotProductProblems.ToArbitrary(), problem =>
        {
            var (m, n, k, seed) = problem;
            if (!MicroKernel.DotProductKernel.Supports(false, true)) return true;
            float[] a = GemmTestData.Random(m * k, seed), b = GemmTestData.Random(k * n, seed + 1), c = GemmTestData.Random(m * n, seed + 2);
            float[] expected = (float[])c.Clone(), whole = (float[])c.Clone(), rowByRow = (float[])c.Clone();
            NaiveGemm.Multiply(false, true, m, n, k, 0.75f, a, b, -0.5f, expected);
            CpuGemm.Multiply(false, true, m, n, k, 0.75f, a, b, -0.5f, whole, 1, MicroKernel.DotProductKernel);
            GemmTestData.AssertClose(false, true, m, n, k, 0.75f, a, b, -0.5f, c, expected, whole, $"{problem}");
            // One row at a time runs every element alone (no block fits): blocks, overlapping edge blocks and
            // lone elements must all give the same bits.
            for (int i = 0; i < m; i++)
                CpuGemm.Multiply(false, true, 1, n, k, 0.75f, a.AsSpan(i * k, k), b, -0.5f, rowByRow.AsSpan(i * n, n), 1, MicroKernel.DotProductKernel);
            return whole.AsSpan().SequenceEqual(rowByRow);
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(80), property);
    }

    [Theory]
    [InlineData(701, 11, 333)]
    [InlineData(1000, 10, 512)]
    [InlineData(333, 16, 1001)]
    [InlineData(32, 784, 512)]
    [InlineData(47, 530, 300)]
    public void DotProductPathIsTheSameForEveryThreadCount(int m, int n, int k)
    {
        float[] a = GemmTestData.Random(m * k, m), b = GemmTestData.Random(k * n, n), c = GemmTestData.Random(m * n, k);
        float[] reference = (float[])c.Clone();
        CpuGemm.Multiply(false, true, m, n, k, 1f, a, b, 1f, reference, threads: 1);
        foreach (int threads in new[] { 2, 3 })
        {
            float[] actual = (float[])c.Clone();
            CpuGemm.Multiply(false, true, m, n, k, 1f, a, b, 1f, actual, threads);
            Assert.True(reference.AsSpan().SequenceEqual(actual), $"m={m} n={n} k={k}: {threads} threads differ from 1 thread.");
        }
    }
}

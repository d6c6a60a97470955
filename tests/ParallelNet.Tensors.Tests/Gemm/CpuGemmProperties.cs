using FsCheck;
using FsCheck.Fluent;
using ParallelNet.Tensors.Cpu.Gemm;

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
}

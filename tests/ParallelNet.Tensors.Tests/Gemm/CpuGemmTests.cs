using ParallelNet.Tensors.Cpu.Gemm;
using ParallelNet.Tensors.Cpu.Gemm.Internal;

namespace ParallelNet.Tensors.Tests.Gemm;

public class CpuGemmTests
{
    public static TheoryData<string> Kernels => new(Enum.GetNames<MicroKernelKind>());

    // Tiny, odd, exactly one register tile of each kernel, and past the k block (256).
    private static readonly (int M, int N, int K)[] Shapes =
    [
        (1, 1, 1), (1, 7, 3), (5, 1, 9), (3, 3, 1), (7, 13, 5), (8, 32, 16), (6, 16, 8), (5, 32, 4), (9, 33, 17),
        (10, 64, 20), (17, 31, 257), (33, 65, 40), (16, 10, 300), (13, 16, 95), (4, 5, 64), (9, 11, 1),
    ];

    // Past every tile limit too (packed rows 192 or 384 at 2 or 1 threads, tiles of 768 x 1024), for the kernel the shape selects.
    private static readonly (int M, int N, int K)[] LargeShapes = [(200, 530, 300), (197, 45, 600), (10, 600, 64), (790, 1030, 40)];

    private static readonly (float Alpha, float Beta)[] Scalings = [(1f, 0f), (1f, 1f), (-0.5f, 0.25f), (2f, -1f)];

    [Theory]
    [MemberData(nameof(Kernels))]
    public void MatchesNaiveTwinOnAllTransposesAndShapes(string kernelName)
    {
        var kind = Enum.Parse<MicroKernelKind>(kernelName);
        int seed = 1;
        foreach (var (m, n, k) in Shapes)
        {
            foreach (bool transposeA in new[] { false, true })
            {
                foreach (bool transposeB in new[] { false, true })
                {
                    if (!MicroKernel.Of(kind).Supports(transposeA, transposeB)) continue;
                    var (alpha, beta) = Scalings[seed % Scalings.Length];
                    float[] a = GemmTestData.Random(m * k, seed++);
                    float[] b = GemmTestData.Random(k * n, seed++);
                    float[] c = GemmTestData.Random(m * n, seed++);
                    float[] expected = (float[])c.Clone();
                    float[] actual = (float[])c.Clone();
                    NaiveGemm.Multiply(transposeA, transposeB, m, n, k, alpha, a, b, beta, expected);
                    CpuGemm.Multiply(transposeA, transposeB, m, n, k, alpha, a, b, beta, actual, 2, MicroKernel.Of(kind));
                    GemmTestData.AssertClose(transposeA, transposeB, m, n, k, alpha, a, b, beta, c, expected, actual,
                        $"{kind} m={m} n={n} k={k} tA={transposeA} tB={transposeB} alpha={alpha} beta={beta}");
                }
            }
        }
    }

    [Fact]
    public void LargeShapesMatchNaiveTwinWithTheSelectedKernel()
    {
        int seed = 1000;
        foreach (var (m, n, k) in LargeShapes)
        {
            foreach (bool transposeA in new[] { false, true })
            {
                foreach (bool transposeB in new[] { false, true })
                {
                    var (alpha, beta) = Scalings[seed % Scalings.Length];
                    float[] a = GemmTestData.Random(m * k, seed++), b = GemmTestData.Random(k * n, seed++), c = GemmTestData.Random(m * n, seed++);
                    float[] expected = (float[])c.Clone();
                    NaiveGemm.Multiply(transposeA, transposeB, m, n, k, alpha, a, b, beta, expected);
                    foreach (int threads in new[] { 1, 2 })
                    {
                        float[] actual = (float[])c.Clone();
                        CpuGemm.Multiply(transposeA, transposeB, m, n, k, alpha, a, b, beta, actual, threads);
                        GemmTestData.AssertClose(transposeA, transposeB, m, n, k, alpha, a, b, beta, c, expected, actual,
                            $"m={m} n={n} k={k} tA={transposeA} tB={transposeB} alpha={alpha} beta={beta} threads={threads}");
                    }
                }
            }
        }
    }

    [Fact]
    public void RandomShapesMatchNaiveTwinForEveryScaling()
    {
        var random = new System.Random(20261122);
        for (int trial = 0; trial < 60; trial++)
        {
            int m = random.Next(1, 70), n = random.Next(1, 90), k = random.Next(1, 300);
            bool transposeA = random.Next(2) == 1, transposeB = random.Next(2) == 1;
            var (alpha, beta) = Scalings[random.Next(Scalings.Length)];
            float[] a = GemmTestData.Random(m * k, 3 * trial), b = GemmTestData.Random(k * n, 3 * trial + 1), c = GemmTestData.Random(m * n, 3 * trial + 2);
            float[] expected = (float[])c.Clone(), actual = (float[])c.Clone();
            NaiveGemm.Multiply(transposeA, transposeB, m, n, k, alpha, a, b, beta, expected);
            CpuGemm.Multiply(transposeA, transposeB, m, n, k, alpha, a, b, beta, actual, threads: 3);
            GemmTestData.AssertClose(transposeA, transposeB, m, n, k, alpha, a, b, beta, c, expected, actual,
                $"trial {trial} m={m} n={n} k={k} tA={transposeA} tB={transposeB} alpha={alpha} beta={beta}");
        }
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void ResultIsBitwiseIdenticalForOneTwoAndThreeThreads(bool transposeA, bool transposeB)
    {
        foreach (var (m, n, k) in new[] { (128, 512, 784), (16, 784, 512), (512, 784, 128), (131, 77, 300), (128, 10, 512), (37, 16, 200) })
        {
            float[] a = GemmTestData.Random(m * k, m), b = GemmTestData.Random(k * n, n), c = GemmTestData.Random(m * n, k);
            float[] reference = (float[])c.Clone();
            CpuGemm.Multiply(transposeA, transposeB, m, n, k, 0.75f, a, b, 0.5f, reference, threads: 1);
            foreach (int threads in new[] { 2, 3, 0 })
            {
                float[] actual = (float[])c.Clone();
                CpuGemm.Multiply(transposeA, transposeB, m, n, k, 0.75f, a, b, 0.5f, actual, threads);
                Assert.True(reference.AsSpan().SequenceEqual(actual), $"m={m} n={n} k={k} tA={transposeA} tB={transposeB}: {threads} threads differ from 1 thread.");
            }
        }
    }

    [Fact]
    public void AllKernelsAgreeBitwise()
    {
        // Every panel kernel does one fused multiply-add per k step in ascending k within the same k blocks. 37 rows end
        // in a panel of 1 row and 16 rows in one of 4 (6 + 6 + 4): both take a short kernel where there is one.
        const int n = 70, k = 600;
        foreach (int m in new[] { 37, 16 })
        {
            float[] a = GemmTestData.Random(m * k, 7), b = GemmTestData.Random(k * n, 8), c = GemmTestData.Random(m * n, 9);
            float[] reference = (float[])c.Clone();
            CpuGemm.Multiply(false, true, m, n, k, 1.5f, a, b, -0.5f, reference, 1, MicroKernel.ScalarKernel);
            foreach (var kernel in Enum.GetValues<MicroKernelKind>().Where(kind => kind != MicroKernelKind.DotProduct).Select(MicroKernel.Of))
            {
                float[] actual = (float[])c.Clone();
                CpuGemm.Multiply(false, true, m, n, k, 1.5f, a, b, -0.5f, actual, 2, kernel);
                Assert.True(reference.AsSpan().SequenceEqual(actual), $"{kernel.Kind} differs from the scalar kernel at m={m}.");
            }
        }
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(1f)]
    [InlineData(-2.5f)]
    public void ZeroDepthScalesOutputByBeta(float beta)
    {
        float[] c = [1f, -2f, 3f, 4f, 5f, 6f];
        float[] expected = c.Select(x => beta * x).ToArray();
        CpuGemm.Multiply(false, false, 2, 3, 0, 1f, [], [], beta, c, threads: 2);
        Assert.Equal(expected, c);
    }

    [Fact]
    public void BetaZeroIgnoresGarbageInOutput()
    {
        const int m = 20, n = 40, k = 30;
        float[] a = GemmTestData.Random(m * k, 1), b = GemmTestData.Random(k * n, 2);
        float[] c = Enumerable.Repeat(float.NaN, m * n).ToArray();
        CpuGemm.Multiply(false, false, m, n, k, 1f, a, b, 0f, c, threads: 2);
        Assert.All(c, value => Assert.True(float.IsFinite(value)));
    }

    [Fact]
    public void DoesNotTouchOutputPastMTimesN()
    {
        const int m = 9, n = 33, k = 20;
        float[] a = GemmTestData.Random(m * k, 1), b = GemmTestData.Random(k * n, 2);
        float[] c = new float[m * n + 5];
        c.AsSpan(m * n).Fill(42f);
        CpuGemm.Multiply(true, true, m, n, k, 1f, a, b, 0f, c, threads: 2);
        Assert.All(c[(m * n)..], value => Assert.Equal(42f, value));
    }

    [Fact]
    public void RejectsOperandsThatAreTooShortOrNegativeSizes()
    {
        float[] small = new float[5], big = new float[100];
        var error = Assert.Throws<ArgumentException>(() => CpuGemm.Multiply(false, false, 3, 3, 3, 1f, small, big, 0f, big, 1));
        Assert.Contains("operand A", error.Message);
        Assert.Throws<ArgumentException>(() => CpuGemm.Multiply(false, false, 3, 3, 3, 1f, big, small, 0f, big, 1));
        Assert.Throws<ArgumentException>(() => CpuGemm.Multiply(false, false, 3, 3, 3, 1f, big, big, 0f, small, 1));
        Assert.Throws<ArgumentException>(() => CpuGemm.Multiply(false, false, -1, 3, 3, 1f, big, big, 0f, big, 1));
    }

    [Fact]
    public async Task ConcurrentCallersGetTheSameResultsAsOneCaller()
    {
        // Several callers at once: one borrows the helper threads, the others compute on their own thread.
        const int m = 96, n = 200, k = 300;
        float[] a = GemmTestData.Random(m * k, 11), b = GemmTestData.Random(k * n, 12);
        float[] reference = new float[m * n];
        CpuGemm.Multiply(false, false, m, n, k, 1f, a, b, 0f, reference, threads: 1);
        float[][] results = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() =>
        {
            float[] c = new float[m * n];
            for (int repeat = 0; repeat < 10; repeat++) CpuGemm.Multiply(false, false, m, n, k, 1f, a, b, 0f, c, threads: 2);
            return c;
        })));
        Assert.All(results, c => Assert.True(reference.AsSpan().SequenceEqual(c), "a concurrent caller got a different result"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void SteadyStateCallsDoNotAllocate(int threads)
    {
        const int m = 64, n = 256, k = 300;
        float[] a = GemmTestData.Random(m * k, 1), b = GemmTestData.Random(k * n, 2), c = new float[m * n];
        for (int i = 0; i < 3; i++) CpuGemm.Multiply(false, true, m, n, k, 1f, a, b, 0f, c, threads);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++) CpuGemm.Multiply(false, true, m, n, k, 1f, a, b, 0f, c, threads);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}

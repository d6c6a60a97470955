using ParallelNet.Tensors.Cpu.Gemm;

namespace ParallelNet.Tensors.OpenCL.Tests;

[Collection(OpenClCollection.Name)]
public class GemmTests(OpenClFixture fixture)
{
    public static TheoryData<int, int, int> Shapes => new()
    {
        { 1, 1, 1 }, { 2, 3, 1 }, { 7, 5, 3 }, { 1, 17, 9 }, { 33, 1, 31 }, { 65, 47, 129 }, { 128, 10, 512 },
    };

    [OpenClTheory]
    [MemberData(nameof(Shapes))]
    public void Gemm_EqualsTheNaiveTwin_ForEveryTransposeCombination(int m, int n, int k)
    {
        foreach (bool ta in new[] { false, true })
        foreach (bool tb in new[] { false, true })
        {
            int seed = m * 1000 + n * 10 + k;
            var a = BackendComparison.Uniform(m * k, seed);
            var b = BackendComparison.Uniform(k * n, seed + 1);
            var c = BackendComparison.Uniform(m * n, seed + 2);
            var expected = (float[])c.Clone();
            NaiveGemm.Multiply(ta, tb, m, n, k, 0.75f, a, b, 0.5f, expected);
            var actual = RunOnDevice(ta, tb, m, n, k, 0.75f, a, b, 0.5f, c, offset: 3);
            BackendComparison.AssertClose(expected, actual, Tolerances.Gemm, $"gemm {m}x{n}x{k} ta={ta} tb={tb}");
        }
    }

    [OpenClFact]
    public void BetaZero_OverwritesNaNInTheOutput()
    {
        var c = Enumerable.Repeat(float.NaN, 6).ToArray();
        var actual = RunOnDevice(false, false, 2, 3, 2, 1f, [1, 2, 3, 4], [1, 0, 0, 0, 1, 0], 0f, c, offset: 0);
        Assert.Equal([1, 2, 0, 3, 4, 0], actual);
    }

    [OpenClFact]
    public void ZeroK_ScalesTheOutputByBeta()
    {
        var actual = RunOnDevice(false, false, 2, 2, 0, 1f, [], [], 0.5f, [2, 4, 6, 8], offset: 1);
        Assert.Equal([1, 2, 3, 4], actual);
    }

    /// <summary>Runs the product with every operand placed <paramref name="offset"/> elements into a larger buffer, to exercise CLBlast's offsets.</summary>
    private float[] RunOnDevice(bool ta, bool tb, int m, int n, int k, float alpha, float[] a, float[] b, float beta, float[] c, int offset)
    {
        var gpu = fixture.Device;
        Tensor Place(float[] data)
        {
            var t = gpu.Allocate(new Shape(data.Length + offset + 2)).View(offset, new Shape(data.Length));
            gpu.Upload(data, t);
            return t;
        }
        var (ga, gb, gc) = (Place(a), Place(b), Place(c));
        gpu.Gemm(ta, tb, m, n, k, alpha, ga, gb, beta, gc);
        var result = new float[c.Length];
        gpu.Download(gc, result);
        return result;
    }
}

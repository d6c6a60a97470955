using static ParallelNet.Tensors.OpenCL.Tests.BackendComparison;

namespace ParallelNet.Tensors.OpenCL.Tests;

[Collection(OpenClCollection.Name)]
public class ElementwiseTests(OpenClFixture fixture)
{
    public static TheoryData<int, int> Sizes => new() { { 1, 1 }, { 3, 7 }, { 17, 33 }, { 64, 129 } };

    [OpenClTheory]
    [MemberData(nameof(Sizes))]
    public void ElementwiseOps_EqualTheCpuBitwise(int rows, int cols)
    {
        int n = rows * cols;
        (float[], int[]) A(int seed) => (Uniform(n, seed, -3f, 3f), [rows, cols]);
        Run(fixture, [A(1), A(2), A(3)], (c, t) => { c.Add(t[0], t[1], t[2]); return 0; }, Tolerances.Bitwise, "Add");
        Run(fixture, [A(1), A(2), A(3)], (c, t) => { c.Multiply(t[0], t[1], t[2]); return 0; }, Tolerances.Bitwise, "Multiply");
        Run(fixture, [A(1), A(2)], (c, t) => { c.Axpy(-0.37f, t[0], t[1]); return 0; }, Tolerances.Bitwise, "Axpy");
        Run(fixture, [A(1)], (c, t) => { c.Scale(t[0], 1.7f); return 0; }, Tolerances.Bitwise, "Scale");
        Run(fixture, [A(1)], (c, t) => { c.Clamp(t[0], -0.5f, 2f); return 0; }, Tolerances.Bitwise, "Clamp");
        Run(fixture, [A(1), (Uniform(cols, 9), [cols])], (c, t) => { c.AddRowBias(t[0], t[1]); return 0; }, Tolerances.Bitwise, "AddRowBias");
        Run(fixture, [A(1), (Uniform(cols, 9), [cols])], (c, t) => { c.AccumulateColumnSums(t[0], t[1]); return 0; }, Tolerances.Bitwise, "AccumulateColumnSums");
    }

    [OpenClTheory]
    [MemberData(nameof(Sizes))]
    public void Reductions_EqualTheCpuWithinRounding(int rows, int cols)
    {
        var x = Uniform(rows * cols, rows + cols, -3f, 3f);
        Run(fixture, [(x, [rows, cols])], (c, t) => c.SumOfSquares(t[0]), Tolerances.Reduction, "SumOfSquares");
        Run(fixture, [(x, [rows, cols])], (c, t) => c.HasNonFinite(t[0]) ? 1 : 0, Tolerances.Bitwise, "HasNonFinite (finite)");
    }

    [OpenClFact]
    public void SumOfSquares_OfALongVector_UsesEveryChunk()
    {
        var x = Uniform(100_003, 5);
        Run(fixture, [(x, [x.Length])], (c, t) => c.SumOfSquares(t[0]), 1e-12, "SumOfSquares (100003)");
    }

    [OpenClTheory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void HasNonFinite_FindsOneBadElement(float bad)
    {
        var x = Uniform(1001, 3);
        x[777] = bad;
        Run(fixture, [(x, [x.Length])], (c, t) => c.HasNonFinite(t[0]) ? 1 : 0, Tolerances.Bitwise, $"HasNonFinite({bad})");
        Assert.True(fixture.Device.HasNonFinite(Upload(x)));
    }

    [OpenClTheory]
    [InlineData(1, 1, 1)]
    [InlineData(2, 3, 5)]
    [InlineData(7, 4, 49)]
    [InlineData(3, 16, 1)]
    public void ChannelBiasAndSums_EqualTheCpu(int samples, int channels, int inner)
    {
        var x = Uniform(samples * channels * inner, samples * 100 + inner, -2f, 2f);
        var bias = Uniform(channels, 11);
        Run(fixture, [(x, [samples, channels, inner]), (bias, [channels])], (c, t) => { c.AddChannelBias(t[0], t[1], channels); return 0; }, Tolerances.Bitwise, "AddChannelBias");
        Run(fixture, [(x, [samples, channels, inner]), (bias, [channels])], (c, t) => { c.AccumulateChannelSums(t[0], t[1], channels); return 0; }, Tolerances.Reduction, "AccumulateChannelSums");
    }

    private Tensor Upload(float[] data)
    {
        var t = fixture.Device.Allocate(new Shape(data.Length));
        fixture.Device.Upload(data, t);
        return t;
    }
}

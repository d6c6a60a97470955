using ParallelNet.Tensors.Cpu.Kernels;

namespace ParallelNet.Tensors.Tests.Kernels;

/// <summary>
/// The elementwise kernels call TensorPrimitives in pieces (to keep their output in the caches) and the sum of squares can
/// be fed in pieces; against naive scalar twins, bitwise, on lengths around the piece edges.
/// </summary>
public sealed class ElementwisePiecesTests
{
    public static TheoryData<int> Lengths() =>
        [0, 1, 15, Elementwise.CachedPiece - 1, Elementwise.CachedPiece, Elementwise.CachedPiece + 1, 3 * Elementwise.CachedPiece + 7];

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Kernels_in_pieces_are_the_scalar_loops_bitwise(int length)
    {
        var a = TestData.Uniform(length, 1, -3f, 3f);
        var b = TestData.Uniform(length, 2, -3f, 3f);

        var sum = new float[length];
        Elementwise.Add(a, b, sum);
        TestData.AssertBitwiseEqual(a.Select((v, i) => v + b[i]).ToArray(), sum, "Add");

        var product = new float[length];
        Elementwise.Multiply(a, b, product);
        TestData.AssertBitwiseEqual(a.Select((v, i) => v * b[i]).ToArray(), product, "Multiply");

        var axpy = (float[])b.Clone();
        Elementwise.Axpy(0.37f, a, axpy);
        // TensorPrimitives.MultiplyAdd rounds the product and then the sum (it is not a fused multiply-add).
        TestData.AssertBitwiseEqual(a.Select((v, i) => v * 0.37f + b[i]).ToArray(), axpy, "Axpy");

        var scaled = (float[])a.Clone();
        Elementwise.Scale(scaled, 0.61f);
        TestData.AssertBitwiseEqual(a.Select(v => v * 0.61f).ToArray(), scaled, "Scale");

        var clamped = (float[])a.Clone();
        Elementwise.Clamp(clamped, -1.5f, 2f);
        TestData.AssertBitwiseEqual(a.Select(v => Math.Max(Math.Min(v, 2f), -1.5f)).ToArray(), clamped, "Clamp");
    }

    /// <summary>The naive twin of the sum of squares' fixed order: sixteen lanes of fused multiply-adds in double, lanes i and i + 4, 8, 12 added pairwise, then the four lane sums pairwise, then the tail in index order.</summary>
    private static double NaiveSumOfSquares(float[] x)
    {
        var lanes = new double[16];
        int groups = x.Length / 16;
        for (int g = 0; g < groups; g++)
            for (int j = 0; j < 16; j++) lanes[j] = Math.FusedMultiplyAdd(x[16 * g + j], x[16 * g + j], lanes[j]);
        double sum = 0;
        if (groups > 0)
        {
            var four = Enumerable.Range(0, 4).Select(k => (lanes[k] + lanes[4 + k]) + (lanes[8 + k] + lanes[12 + k])).ToArray();
            sum = (four[0] + four[1]) + (four[2] + four[3]);
        }
        for (int i = 16 * groups; i < x.Length; i++) sum += (double)x[i] * x[i];
        return sum;
    }

    [Theory]
    [InlineData(0, 16)]
    [InlineData(7, 16)]
    [InlineData(16, 16)]
    [InlineData(17, 16)]
    [InlineData(2048 * 3 + 5, 2048)]
    [InlineData(2048 * 3, 2048)]
    [InlineData(40_001, 4096)]
    [InlineData(40_001, 16)]
    public void Sum_of_squares_fed_in_pieces_is_the_whole_spans_bitwise(int length, int piece)
    {
        // Magnitudes spread wide, so any other order of the additions shows in the bits.
        var random = new System.Random(length);
        var x = Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-4, 5)))).ToArray();
        double expected = NaiveSumOfSquares(x);

        var pieces = new Elementwise.SumOfSquaresAccumulator();
        int offset = 0;
        do
        {
            int n = Math.Min(piece, length - offset);
            pieces.Add(x.AsSpan(offset, n), last: offset + n == length);
            offset += n;
        }
        while (offset < length);

        Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(Elementwise.SumOfSquares(x)));
        Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(pieces.Total));
    }

    [Fact]
    public void Sum_of_squares_in_pieces_refuses_a_ragged_piece_an_early_total_and_a_piece_after_the_last()
    {
        var pieces = new Elementwise.SumOfSquaresAccumulator();
        Assert.Throws<ArgumentException>(() => pieces.Add(new float[17], last: false));
        pieces.Add(new float[32], last: false);
        Assert.Throws<InvalidOperationException>(() => pieces.Total);
        pieces.Add([2f, 3f], last: true);
        Assert.Equal(13.0, pieces.Total);
        Assert.Throws<InvalidOperationException>(() => pieces.Add(new float[16], last: true));
    }
}

using ParallelNet.Tensors.Cpu;
using ParallelNet.Tensors.Cpu.Kernels.Naive;

namespace ParallelNet.Tensors.Tests.Kernels;

/// <summary>
/// The LSTM cell, the leading-axes swap and the embedding gather/scatter against their naive twins on odd and
/// tiny shapes (and one wide enough to run on two threads). Tolerance for the cell: 2e-6 absolute + 1e-5 relative
/// (float32 sigmoid/tanh against double); the copies and the scatter-add must be exact.
/// </summary>
public class RecurrentAndEmbeddingTests
{
    private const float Absolute = 2e-6f, Relative = 1e-5f;

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 5)]
    [InlineData(2, 17)]
    [InlineData(7, 33)]
    [InlineData(130, 64)]
    public void LstmCell_ForwardAndBackward_MatchNaiveTwin_OnAnyThreadCount(int rows, int hidden)
    {
        int seed = rows * 101 + hidden;
        var preActivations = TestData.Uniform(rows * 4 * hidden, seed, -3f, 3f);
        var previousCell = TestData.Uniform(rows * hidden, seed + 1, -2f, 2f);
        var dh = TestData.Uniform(rows * hidden, seed + 2);
        var dcIn = TestData.Uniform(rows * hidden, seed + 3);

        var expectedGates = (float[])preActivations.Clone();
        var (expectedCell, expectedTanh, expectedHidden) = (new float[rows * hidden], new float[rows * hidden], new float[rows * hidden]);
        NaiveRecurrent.LstmCellForward(expectedGates, previousCell, expectedCell, expectedTanh, expectedHidden, hidden);
        var expectedDc = (float[])dcIn.Clone();
        var expectedDgates = new float[rows * 4 * hidden];
        NaiveRecurrent.LstmCellBackward(expectedGates, previousCell, expectedTanh, dh, expectedDc, expectedDgates, hidden);

        float[]? firstRunGates = null, firstRunDgates = null;
        foreach (int threads in new[] { 1, 2 })
        {
            var compute = new CpuCompute(threads);
            var gates = (float[])preActivations.Clone();
            var (cell, tanhCell, hiddenState) = (new float[rows * hidden], new float[rows * hidden], new float[rows * hidden]);
            compute.LstmCellForward(TestData.Tensor(gates, rows, 4 * hidden), TestData.Tensor(previousCell, rows, hidden),
                TestData.Tensor(cell, rows, hidden), TestData.Tensor(tanhCell, rows, hidden), TestData.Tensor(hiddenState, rows, hidden));
            TestData.AssertClose(expectedGates, gates, Absolute, Relative, "activated gates");
            TestData.AssertClose(expectedCell, cell, Absolute, Relative, "cell");
            TestData.AssertClose(expectedTanh, tanhCell, Absolute, Relative, "tanh(cell)");
            TestData.AssertClose(expectedHidden, hiddenState, Absolute, Relative, "hidden");

            // The backward pass starts from the naive activations, so only its own arithmetic is compared.
            var dc = (float[])dcIn.Clone();
            var dgates = new float[rows * 4 * hidden];
            compute.LstmCellBackward(TestData.Tensor(expectedGates, rows, 4 * hidden), TestData.Tensor(previousCell, rows, hidden),
                TestData.Tensor(expectedTanh, rows, hidden), TestData.Tensor(dh, rows, hidden), TestData.Tensor(dc, rows, hidden), TestData.Tensor(dgates, rows, 4 * hidden));
            TestData.AssertClose(expectedDgates, dgates, Absolute, Relative, "gate gradients");
            TestData.AssertClose(expectedDc, dc, Absolute, Relative, "previous-cell gradient");

            if (firstRunGates is null)
            {
                (firstRunGates, firstRunDgates) = (gates, dgates);
                continue;
            }
            TestData.AssertBitwiseEqual(firstRunGates, gates, "gates, 1 vs 2 threads");
            TestData.AssertBitwiseEqual(firstRunDgates!, dgates, "gate gradients, 1 vs 2 threads");
        }
    }

    [Fact]
    public void LstmCell_RejectsGatesThatAreNotFourBlocks()
    {
        var compute = new CpuCompute(1);
        var e = Assert.Throws<ArgumentException>(() => compute.LstmCellForward(Tensor.Zeros(2, 6), Tensor.Zeros(2, 2), Tensor.Zeros(2, 2), Tensor.Zeros(2, 2), Tensor.Zeros(2, 2)));
        Assert.Contains("4·hidden", e.Message);
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(2, 3, 1)]
    [InlineData(5, 1, 7)]
    [InlineData(4, 28, 28)]
    public void SwapLeadingAxes_MatchesNaiveTwin_AndIsItsOwnInverse(int outer, int middle, int inner)
    {
        var x = TestData.Uniform(outer * middle * inner, outer + middle * 10 + inner * 100);
        var expected = new float[x.Length];
        NaiveRecurrent.SwapLeadingAxes(x, expected, outer, middle);
        var compute = new CpuCompute(1);
        var (y, back) = (new float[x.Length], new float[x.Length]);
        compute.SwapLeadingAxes(TestData.Tensor(x, x.Length), TestData.Tensor(y, y.Length), outer, middle);
        TestData.AssertBitwiseEqual(expected, y, "swapped");
        compute.SwapLeadingAxes(TestData.Tensor(y, y.Length), TestData.Tensor(back, back.Length), middle, outer);
        TestData.AssertBitwiseEqual(x, back, "swapped back");
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(3, 5, 4)]
    [InlineData(11, 2, 9)]
    [InlineData(40, 17, 3)]
    public void Embedding_GatherAndScatterAdd_MatchNaiveTwin_WithRepeatedIds(int count, int dimension, int vocabulary)
    {
        int seed = count * 31 + dimension * 7 + vocabulary;
        var ids = TestData.Labels(count, vocabulary, seed);
        var table = TestData.Uniform(vocabulary * dimension, seed + 1);
        var dy = TestData.Uniform(count * dimension, seed + 2);
        var (expectedY, y) = (new float[count * dimension], new float[count * dimension]);
        NaiveEmbedding.Forward(ids, table, expectedY, dimension);
        var expectedTableGradient = TestData.Uniform(vocabulary * dimension, seed + 3);
        var tableGradient = (float[])expectedTableGradient.Clone();
        NaiveEmbedding.Backward(ids, dy, expectedTableGradient, dimension);

        var compute = new CpuCompute(1);
        compute.EmbeddingForward(TestData.Tensor(ids, count), TestData.Tensor(table, vocabulary, dimension), TestData.Tensor(y, count, dimension));
        compute.EmbeddingBackward(TestData.Tensor(ids, count), TestData.Tensor(dy, count, dimension), TestData.Tensor(tableGradient, vocabulary, dimension));
        TestData.AssertBitwiseEqual(expectedY, y, "gathered rows");
        TestData.AssertBitwiseEqual(expectedTableGradient, tableGradient, "table gradient");
    }

    [Theory]
    [InlineData(3f)]
    [InlineData(-1f)]
    [InlineData(1.5f)]
    public void Embedding_RejectsIdsOutsideTheVocabulary(float id)
    {
        var compute = new CpuCompute(1);
        var e = Assert.Throws<ArgumentException>(() => compute.EmbeddingForward(TestData.Tensor([0f, id], 2), Tensor.Zeros(3, 2), Tensor.Zeros(2, 2)));
        Assert.Contains("not a token id in [0, 3)", e.Message);
    }
}

using static ParallelNet.Tensors.OpenCL.Tests.BackendComparison;

namespace ParallelNet.Tensors.OpenCL.Tests;

/// <summary>Embedding, the axis swap and the LSTM cell on OpenCL against the CPU backend, on random shapes.</summary>
[Collection(OpenClCollection.Name)]
public class RecurrentTests(OpenClFixture fixture)
{
    [OpenClTheory]
    [InlineData(1, 1, 1)]
    [InlineData(7, 3, 5)]
    [InlineData(40, 11, 33)]
    public void Embedding_ForwardAndBackward_EqualTheCpuBitwise(int count, int vocabulary, int dimension)
    {
        // Few ids over many rows, so repeated ids must accumulate in ascending row order.
        var ids = Labels(count, vocabulary, count + vocabulary);
        var table = Uniform(vocabulary * dimension, 3);
        Run(fixture, [(ids, [count]), (table, [vocabulary, dimension]), (new float[count * dimension], [count, dimension])],
            (c, t) => { c.EmbeddingForward(t[0], t[1], t[2]); return 0; }, Tolerances.Bitwise, $"embedding forward {count}x{dimension}");
        Run(fixture, [(ids, [count]), (Uniform(count * dimension, 4), [count, dimension]), (Uniform(vocabulary * dimension, 5), [vocabulary, dimension])],
            (c, t) => { c.EmbeddingBackward(t[0], t[1], t[2]); return 0; }, Tolerances.Bitwise, $"embedding backward {count}x{dimension}");
    }

    [OpenClTheory]
    [InlineData(2.5f)]
    [InlineData(-1f)]
    [InlineData(4f)]
    public void Embedding_RejectsABadTokenIdWithTheCpusMessage(float bad)
    {
        float[] ids = [0f, 1f, bad, 2f, bad];
        string Message(ICompute compute)
        {
            var indices = compute.Allocate(new Shape(ids.Length));
            compute.Upload(ids, indices);
            var table = compute.Allocate(new Shape(4, 3));
            var y = compute.Allocate(new Shape(ids.Length, 3));
            return Assert.Throws<ArgumentException>(() => compute.EmbeddingForward(indices, table, y)).Message;
        }
        Assert.Equal(Message(fixture.Cpu), Message(fixture.Device));
        Assert.Contains("position 2", Message(fixture.Device));
    }

    [OpenClTheory]
    [InlineData(1, 1, 1)]
    [InlineData(3, 5, 2)]
    [InlineData(28, 16, 28)]
    public void SwapLeadingAxes_EqualsTheCpuBitwise(int outer, int middle, int inner)
    {
        int n = outer * middle * inner;
        Run(fixture, [(Uniform(n, n), [outer, middle, inner]), (new float[n], [middle, outer, inner])],
            (c, t) => { c.SwapLeadingAxes(t[0], t[1], outer, middle); return 0; }, Tolerances.Bitwise, $"swap {outer}x{middle}x{inner}");
    }

    [OpenClTheory]
    [InlineData(1, 1)]
    [InlineData(3, 5)]
    [InlineData(17, 128)]
    public void LstmCell_ForwardWithinTranscendentalTolerance_BackwardBitwise(int rows, int hidden)
    {
        int n = rows * hidden;
        var gates = Uniform(4 * n, n, -3f, 3f);
        var previousCell = Uniform(n, n + 1, -2f, 2f);
        var (cpu, _) = Run(fixture, [(gates, [rows, 4 * hidden]), (previousCell, [rows, hidden]), (new float[n], [rows, hidden]), (new float[n], [rows, hidden]), (new float[n], [rows, hidden])],
            (c, t) => { c.LstmCellForward(t[0], t[1], t[2], t[3], t[4]); return 0; }, Tolerances.Transcendental, $"lstm forward {rows}x{hidden}");
        // Backward from the CPU's activated gates, so a forward difference does not leak into the comparison.
        Run(fixture, [(cpu[0], [rows, 4 * hidden]), (previousCell, [rows, hidden]), (cpu[3], [rows, hidden]), (Uniform(n, 8), [rows, hidden]),
                (Uniform(n, 9), [rows, hidden]), (new float[4 * n], [rows, 4 * hidden])],
            (c, t) => { c.LstmCellBackward(t[0], t[1], t[2], t[3], t[4], t[5]); return 0; }, Tolerances.Bitwise, $"lstm backward {rows}x{hidden}");
    }
}

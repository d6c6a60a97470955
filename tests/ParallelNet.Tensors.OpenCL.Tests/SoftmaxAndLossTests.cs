using static ParallelNet.Tensors.OpenCL.Tests.BackendComparison;

namespace ParallelNet.Tensors.OpenCL.Tests;

[Collection(OpenClCollection.Name)]
public class SoftmaxAndLossTests(OpenClFixture fixture)
{
    public static TheoryData<int, int> Shapes => new() { { 1, 1 }, { 1, 10 }, { 7, 3 }, { 128, 10 }, { 5, 1000 } };

    [OpenClTheory]
    [MemberData(nameof(Shapes))]
    public void SoftmaxFamily_EqualsTheCpu(int rows, int cols)
    {
        int n = rows * cols;
        var x = Uniform(n, n, -20f, 20f);
        int[] dims = [rows, cols];
        Run(fixture, [(x, dims), (new float[n], dims)], (c, t) => { c.Softmax(t[0], t[1]); return 0; }, Tolerances.FloatRowSum, "Softmax");
        Run(fixture, [(x, dims), (new float[n], dims)], (c, t) => { c.LogSoftmax(t[0], t[1]); return 0; }, Tolerances.FloatRowSum, "LogSoftmax");
        Run(fixture, [(Uniform(n, 2, 0f, 1f), dims), (Uniform(n, 3), dims), (new float[n], dims)],
            (c, t) => { c.SoftmaxBackward(t[0], t[1], t[2]); return 0; }, Tolerances.FloatRowSum, "SoftmaxBackward");
    }

    [OpenClTheory]
    [MemberData(nameof(Shapes))]
    public void Losses_EqualTheCpu(int rows, int classes)
    {
        int n = rows * classes;
        var scores = Uniform(n, n + 3, -5f, 5f);
        var labels = Labels(rows, classes, rows);
        int[] dims = [rows, classes];
        Run(fixture, [(scores, dims), (labels, [rows]), (new float[n], dims)],
            (c, t) => c.SoftmaxCrossEntropy(t[0], t[1], t[2], 1f / rows), Tolerances.FloatRowSum, "SoftmaxCrossEntropy");
        Run(fixture, [(scores, dims), (labels, [rows]), (new float[n], dims)],
            (c, t) => c.MulticlassHinge(t[0], t[1], t[2], 0.5f), Tolerances.Reduction, "MulticlassHinge");
        Run(fixture, [(scores, dims), (labels, [rows])], (c, t) => c.CountCorrect(t[0], t[1]), Tolerances.Bitwise, "CountCorrect");
        var targets = Uniform(n, 17, 0f, 1f);
        Run(fixture, [(scores, dims), (targets, dims), (new float[n], dims)],
            (c, t) => c.BinaryCrossEntropyWithLogits(t[0], t[1], t[2], 0.25f), Tolerances.Transcendental, "BinaryCrossEntropyWithLogits");
        Run(fixture, [(scores, dims), (targets, dims), (new float[n], dims)],
            (c, t) => c.HalfSquaredError(t[0], t[1], t[2], 2f), Tolerances.Reduction, "HalfSquaredError");
    }

    [OpenClFact]
    public void CountCorrect_CountsKnownRows()
    {
        var gpu = fixture.Device;
        var scores = gpu.Allocate(new Shape(3, 3));
        var labels = gpu.Allocate(new Shape(3));
        gpu.Upload([0.1f, 0.9f, 0f, 2f, 2f, 1f, 0f, 0f, 3f], scores);
        gpu.Upload([1f, 1f, 2f], labels); // row 1 ties between 0 and 1: the first wins, so it is wrong
        Assert.Equal(2, gpu.CountCorrect(scores, labels));
    }

    [OpenClTheory]
    [InlineData(3f)]
    [InlineData(-1f)]
    [InlineData(0.5f)]
    public void BadLabels_AreReportedWithTheirRow(float bad)
    {
        var gpu = fixture.Device;
        var scores = gpu.Allocate(new Shape(4, 3));
        var labels = gpu.Allocate(new Shape(4));
        gpu.Upload([0f, 1f, bad, 2f], labels);
        var e = Assert.Throws<ArgumentException>(() => gpu.SoftmaxCrossEntropy(scores, labels, gpu.Allocate(new Shape(4, 3)), 1f));
        Assert.Equal($"SoftmaxCrossEntropy: label {bad} in row 2 is not a class index in [0, 3).", e.Message);
        Assert.Throws<ArgumentException>(() => gpu.CountCorrect(scores, labels));
    }
}

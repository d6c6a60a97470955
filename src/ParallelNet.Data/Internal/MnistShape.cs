namespace ParallelNet.Data.Internal;

/// <summary>What the four MNIST files must contain (the real set, or a small one in tests).</summary>
internal sealed record MnistShape(int TrainCount, int TestCount, int Rows, int Columns)
{
    public static MnistShape Standard { get; } = new(60000, 10000, 28, 28);

    internal sealed record FileSpec(string BaseName, int Magic, int[] Dims);

    /// <summary>In the order of <see cref="MnistFiles.StandardNames"/>.</summary>
    public IReadOnlyList<FileSpec> Files =>
    [
        new(MnistFiles.StandardNames[0], IdxStream.ImagesMagic, [TrainCount, Rows, Columns]),
        new(MnistFiles.StandardNames[1], IdxStream.LabelsMagic, [TrainCount]),
        new(MnistFiles.StandardNames[2], IdxStream.ImagesMagic, [TestCount, Rows, Columns]),
        new(MnistFiles.StandardNames[3], IdxStream.LabelsMagic, [TestCount]),
    ];
}

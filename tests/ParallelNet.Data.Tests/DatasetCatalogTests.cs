using ParallelNet.Data.Tests.Fixtures;

namespace ParallelNet.Data.Tests;

public sealed class DatasetCatalogTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("spirals", 2, 3)]
    [InlineData("blobs", 2, 3)]
    [InlineData("linear", 8, 0)]
    public void Synthetic_sets_load_standardized_and_deterministic(string name, int features, int classes)
    {
        var split = DatasetCatalog.Load(name, null);
        Assert.Equal(features, split.Train.SampleSize);
        Assert.Equal(classes, split.Train.Classes);
        Assert.True(split.Test.Count > 0);
        Assert.Equal(features, split.Normalization.Mean.Length);
        Assert.Equal(split.Train.Features, DatasetCatalog.Load(name.ToUpperInvariant(), null).Train.Features);
        double mean = Enumerable.Range(0, split.Train.Count).Average(n => (double)split.Train.Features[n * features]);
        Assert.Equal(0, mean, 5);
    }

    [Fact]
    public void Csv_path_and_mnist_directory_load()
    {
        var csv = _dir.Write("d.csv", string.Join("\n", Enumerable.Range(0, 20).Select(i => $"{i},{i % 3}")));
        Assert.Equal(16, DatasetCatalog.Load(csv, null).Train.Count);

        IdxWriter.WriteSet(_dir.Path, 6, 2, 4, 4, gzip: true);
        var mnist = DatasetCatalog.Load("mnist", _dir.Path);
        Assert.Equal(6, mnist.Train.Count);
        Assert.Equal(Normalization.Mnist, mnist.Normalization);
        Assert.Equal(mnist.Train.Features, DatasetCatalog.Load(_dir.Path, null).Train.Features);
    }

    [Fact]
    public void Unknown_names_and_missing_files_are_data_exceptions()
    {
        Assert.Contains("Unknown data set 'cifar'", Assert.Throws<DataException>(() => DatasetCatalog.Load("cifar", null)).Message);
        Assert.Contains("file not found", Assert.Throws<DataException>(() => DatasetCatalog.Load(_dir.File("x.csv"), null)).Message);
        Assert.Throws<DataException>(() => DatasetCatalog.Load(" ", null));
    }
}

using ParallelNet.Tensors;

namespace ParallelNet.Data.Tests;

public sealed class DatasetTests
{
    private static Dataset Sample() =>
        new("d", new Shape(2), [0, 1, 10, 11, 20, 21, 30, 31], [0, 1, 2, 1], targetSize: 1, classes: 3);

    [Fact]
    public void CopyBatch_gathers_rows_in_index_order()
    {
        var data = Sample();
        var features = new float[6];
        var targets = new float[3];
        data.CopyBatch([3, 0, 3], features, targets);
        Assert.Equal(new float[] { 30, 31, 0, 1, 30, 31 }, features);
        Assert.Equal(new float[] { 1, 0, 1 }, targets);
    }

    [Fact]
    public void CopyBatch_allocates_nothing()
    {
        var data = Sample();
        var features = new float[4];
        var targets = new float[2];
        int[] indices = [1, 2];
        data.CopyBatch(indices, features, targets);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) data.CopyBatch(indices, features, targets);
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Fact]
    public void CopyBatch_checks_buffers_and_indices()
    {
        var data = Sample();
        Assert.Throws<ArgumentException>(() => data.CopyBatch([0, 1], new float[3], new float[2]));
        Assert.Throws<ArgumentException>(() => data.CopyBatch([0, 1], new float[4], new float[1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => data.CopyBatch([4], new float[2], new float[1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => data.CopyBatch([-1], new float[2], new float[1]));
    }

    [Fact]
    public void Constructor_rejects_inconsistent_sizes_and_labels()
    {
        Assert.Throws<ArgumentException>(() => new Dataset("x", new Shape(3), new float[4], new float[1], 1, 0));
        Assert.Throws<ArgumentException>(() => new Dataset("x", new Shape(2), new float[4], new float[3], 1, 0));
        var e = Assert.Throws<ArgumentException>(() => new Dataset("x", new Shape(1), new float[2], [0, 3], 1, 3));
        Assert.Contains("sample 1 has target 3", e.Message);
        Assert.Throws<ArgumentException>(() => new Dataset("x", new Shape(1), new float[2], [0, 0.5f], 1, 3));
    }

    [Fact]
    public void Subset_copies_the_chosen_samples()
    {
        var sub = Sample().Subset([2, 1], "sub");
        Assert.Equal(2, sub.Count);
        Assert.Equal(new float[] { 20, 21, 10, 11 }, sub.Features);
        Assert.Equal(new float[] { 2, 1 }, sub.Targets);
        Assert.Equal(3, sub.Classes);
    }
}

using ParallelNet.Tensors;

namespace ParallelNet.Data.Tests;

public sealed class NormalizationTests
{
    private static Dataset Table(float[] features, int width) =>
        new("t", new Shape(width), features, new float[features.Length / width], 1, 0);

    [Fact]
    public void Per_feature_fit_gives_zero_mean_unit_std_columns()
    {
        var data = Table([1, 10, 2, 20, 3, 30, 6, 40], 2);
        var n = Normalization.FitPerFeature(data);
        Assert.Equal(3f, n.Mean[0]);
        Assert.Equal(25f, n.Mean[1]);
        Assert.Equal(MathF.Sqrt(3.5f), n.Std[0], 1e-6f);
        n.Apply(data);
        Assert.Equal((1 - 3f) / n.Std[0], data.Features[0]);
        Assert.Equal((40 - 25f) / n.Std[1], data.Features[7]);
    }

    [Fact]
    public void Constant_column_gets_std_one_instead_of_nan()
    {
        var data = Table([5, 1, 5, 2], 2);
        var n = Normalization.FitPerFeature(data);
        Assert.Equal(1f, n.Std[0]);
        n.Apply(data);
        Assert.Equal(0f, data.Features[0]);
        Assert.All(data.Features, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Global_fit_uses_every_value()
    {
        var data = Table([0, 0, 1, 1], 2);
        var n = Normalization.FitGlobal(data);
        Assert.True(n.IsGlobal);
        Assert.Equal(0.5f, n.Mean[0]);
        Assert.Equal(0.5f, n.Std[0]);
    }

    [Fact]
    public void Round_trips_through_metadata_and_string_bitwise()
    {
        var n = Normalization.PerFeature([0.1f, -3.3333333f, 1e-7f], [1f / 3f, 2.5f, 7e10f]);
        Assert.Equal(n, Normalization.FromMetadata(n.ToMetadata()));
        Assert.Equal(n, Normalization.Parse(n.Serialize()));
        Assert.Equal(Normalization.Mnist, Normalization.Parse("mean=0.1307;std=0.3081"));
        Assert.Equal(Normalization.Identity, Normalization.Parse(Normalization.Identity.Serialize()));
        Assert.Equal(Normalization.Identity, Normalization.FromMetadata(new Dictionary<string, string>()));
        Assert.NotEqual(Normalization.Mnist, Normalization.Global(0.1307f, 0.3082f));
    }

    [Fact]
    public void Bad_metadata_is_a_data_exception()
    {
        Assert.Throws<DataException>(() => Normalization.Parse("mean=1;std=x"));
        Assert.Throws<DataException>(() => Normalization.Parse("mean=1;std=0"));
        Assert.Throws<DataException>(() => Normalization.Parse("mean=1,2;std=1"));
        Assert.Throws<DataException>(() => Normalization.FromMetadata(new Dictionary<string, string> { [Normalization.MeanKey] = "1" }));
    }

    [Fact]
    public void Per_feature_apply_rejects_a_different_width()
    {
        var n = Normalization.PerFeature([0, 0, 0], [1, 1, 1]);
        var e = Assert.Throws<ArgumentException>(() => n.Apply(Table([1, 2, 3, 4], 2)));
        Assert.Contains("3 feature columns", e.Message);
    }
}

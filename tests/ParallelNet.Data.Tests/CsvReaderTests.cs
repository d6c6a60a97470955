using ParallelNet.Data.Tests.Fixtures;

namespace ParallelNet.Data.Tests;

public sealed class CsvReaderTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    public void Dispose() => _dir.Dispose();

    private static readonly CsvOptions Raw = new() { Standardize = false };

    [Fact]
    public void Detects_a_header_and_reads_integer_labels_as_classes()
    {
        var train = _dir.Write("train.csv", "a,b,label\n1,2,0\n3,4,1\n\n5,6,2\n");
        var test = _dir.Write("test.csv", "a,b,label\n7,8,1\n");
        var split = CsvReader.Load(train, Raw with { TestFile = test });

        Assert.Equal(3, split.Train.Count);
        Assert.Equal(3, split.Train.Classes);
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, split.Train.Features);
        Assert.Equal(new float[] { 0, 1, 2 }, split.Train.Targets);
        Assert.Equal(new float[] { 7, 8 }, split.Test.Features);
        Assert.Equal(3, split.Test.Classes);
        Assert.True(split.Normalization.IsIdentity);
    }

    [Fact]
    public void Without_header_the_first_row_is_data()
    {
        var path = _dir.Write("nohead.csv", "1.5,2,1\n3,-4e1,0\n");
        var split = CsvReader.Load(path, Raw with { TestFile = path });
        Assert.Equal(new float[] { 1.5f, 2, 3, -40 }, split.Train.Features);
        Assert.Equal(2, split.Train.Classes);
    }

    [Fact]
    public void Label_column_by_name_or_index()
    {
        var path = _dir.Write("cols.csv", "y,x1,x2\n0.5,1,2\n1.5,3,4\n");
        var byName = CsvReader.Load(path, Raw with { TestFile = path, LabelName = "y" });
        var byIndex = CsvReader.Load(path, Raw with { TestFile = path, LabelIndex = 0 });

        Assert.Equal(new float[] { 1, 2, 3, 4 }, byName.Train.Features);
        Assert.Equal(new float[] { 0.5f, 1.5f }, byName.Train.Targets);
        Assert.Equal(0, byName.Train.Classes); // fractional labels: regression
        Assert.Equal(byName.Train.Features, byIndex.Train.Features);
    }

    [Fact]
    public void Regression_can_be_forced_on_integer_labels()
    {
        var path = _dir.Write("r.csv", "1,0\n2,1\n3,2\n");
        Assert.Equal(0, CsvReader.Load(path, Raw with { TestFile = path, Task = CsvTask.Regression }).Train.Classes);
        Assert.Equal(3, CsvReader.Load(path, Raw with { TestFile = path }).Train.Classes);
    }

    [Fact]
    public void Bad_value_names_line_and_column()
    {
        var path = _dir.Write("bad.csv", "a,b,c\n1,2,0\n\n1,x,1\n");
        var e = Assert.Throws<DataException>(() => CsvReader.Load(path));
        Assert.Contains($"{path} line 4, column 2 (b)", e.Message);
        Assert.Contains("'x'", e.Message);
    }

    [Fact]
    public void Wrong_column_count_names_the_line()
    {
        var path = _dir.Write("ragged.csv", "1,2,0\n1,2\n");
        var e = Assert.Throws<DataException>(() => CsvReader.Load(path));
        Assert.Contains("line 2", e.Message);
        Assert.Contains("found 2 values, expected 3", e.Message);
    }

    [Fact]
    public void Empty_and_non_finite_values_are_rejected()
    {
        Assert.Contains("empty value", Assert.Throws<DataException>(() => CsvReader.Load(_dir.Write("e.csv", "1,2,0\n1,,1\n"))).Message);
        Assert.Contains("'NaN'", Assert.Throws<DataException>(() => CsvReader.Load(_dir.Write("n.csv", "1,2,0\n1,NaN,1\n"))).Message);
    }

    [Fact]
    public void Forced_classification_with_fractional_label_names_the_line()
    {
        var path = _dir.Write("frac.csv", "1,0\n2,1\n3,0.5\n");
        var e = Assert.Throws<DataException>(() => CsvReader.Load(path, Raw with { Task = CsvTask.Classification }));
        Assert.Contains("line 3", e.Message);
    }

    [Fact]
    public void Unknown_label_name_lists_the_header()
    {
        var path = _dir.Write("h.csv", "a,b\n1,0\n2,1\n");
        var e = Assert.Throws<DataException>(() => CsvReader.Load(path, new CsvOptions { LabelName = "target" }));
        Assert.Contains("no column named 'target'", e.Message);
        Assert.Contains("a, b", e.Message);
    }

    [Fact]
    public void Missing_file_and_empty_file_are_clear()
    {
        Assert.Contains("file not found", Assert.Throws<DataException>(() => CsvReader.Load(_dir.File("none.csv"))).Message);
        Assert.Contains("no data rows", Assert.Throws<DataException>(() => CsvReader.Load(_dir.Write("h.csv", "a,b\n"))).Message);
    }

    [Fact]
    public void Test_file_with_other_columns_or_labels_is_rejected()
    {
        var train = _dir.Write("train.csv", "1,2,0\n3,4,1\n");
        var e = Assert.Throws<DataException>(() => CsvReader.Load(train, new CsvOptions { TestFile = _dir.Write("t1.csv", "1,0\n") }));
        Assert.Contains("1 feature columns", e.Message);
        e = Assert.Throws<DataException>(() => CsvReader.Load(train, new CsvOptions { TestFile = _dir.Write("t2.csv", "1,2,0\n1,2,-1\n") }));
        Assert.Contains("t2.csv line 2", e.Message);
        // A test label beyond the training classes widens the class count for both sets.
        var split = CsvReader.Load(train, new CsvOptions { TestFile = _dir.Write("t3.csv", "1,2,4\n") });
        Assert.Equal(5, split.Train.Classes);
        Assert.Equal(5, split.Test.Classes);
    }

    [Fact]
    public void Seeded_split_is_deterministic_disjoint_and_complete()
    {
        var (train, test) = CsvReader.SplitRows(101, 0.2, seed: 7);
        var (train2, test2) = CsvReader.SplitRows(101, 0.2, seed: 7);
        var (_, test3) = CsvReader.SplitRows(101, 0.2, seed: 8);

        Assert.Equal(20, test.Length);
        Assert.Equal(train, train2);
        Assert.Equal(test, test2);
        Assert.NotEqual(test, test3);
        Assert.Equal(Enumerable.Range(0, 101), train.Concat(test).Order());
        Assert.Equal(test.Order(), test); // file order kept
    }

    [Fact]
    public void Standardizes_with_train_statistics_only()
    {
        var rows = string.Join("\n", Enumerable.Range(0, 50).Select(i => $"{i},{i * i % 7},{i % 2}"));
        var path = _dir.Write("s.csv", rows);
        var split = CsvReader.Load(path, new CsvOptions { SplitSeed = 3 });

        Assert.Equal(40, split.Train.Count);
        Assert.Equal(10, split.Test.Count);
        for (int f = 0; f < 2; f++)
        {
            var column = Enumerable.Range(0, split.Train.Count).Select(r => (double)split.Train.Features[r * 2 + f]).ToArray();
            Assert.Equal(0, column.Average(), 5);
            Assert.Equal(1, Math.Sqrt(column.Select(v => v * v).Average()), 5);
        }
        // The test rows were transformed with the same constants.
        var raw = CsvReader.Load(path, new CsvOptions { SplitSeed = 3, Standardize = false });
        var expected = raw.Test.Features.ToArray();
        split.Normalization.Apply(expected);
        Assert.Equal(expected, split.Test.Features);
    }
}

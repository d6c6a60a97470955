using ParallelNet.Data.Internal;
using ParallelNet.Tensors;
using ParallelNet.Tensors.Random;

namespace ParallelNet.Data;

/// <summary>Reads a CSV file of numeric feature columns and one label column into a train/test split.</summary>
public static class CsvReader
{
    /// <summary>
    /// Reads <paramref name="path"/> (and <see cref="CsvOptions.TestFile"/> if given), decides the task,
    /// splits off a seeded test share when there is no test file, and standardizes every feature
    /// column with statistics of the training rows only.
    /// </summary>
    public static DataSplit Load(string path, CsvOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= new CsvOptions();
        if (options.TestFile is null && !(options.TestFraction > 0 && options.TestFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(options), $"The test fraction must be between 0 and 1 (exclusive), got {options.TestFraction}.");

        var trainTable = CsvTable.Read(path, options);
        var testTable = options.TestFile is { } testPath ? CsvTable.Read(testPath, options) : null;
        if (testTable is not null && testTable.FeatureCount != trainTable.FeatureCount)
            throw new DataException($"{testTable.Path}: has {testTable.FeatureCount} feature columns but {path} has {trainTable.FeatureCount}; the test file must have the same columns.");

        int classes = DecideClasses(trainTable, options.Task);
        if (classes > 0)
        {
            CheckClassLabels(trainTable, classes);
            if (testTable is not null) classes = Math.Max(classes, CheckClassLabels(testTable, int.MaxValue));
        }

        string name = Path.GetFileNameWithoutExtension(path);
        var shape = new Shape(trainTable.FeatureCount);
        var all = new Dataset(name, shape, trainTable.Features, trainTable.Labels, targetSize: 1, classes);
        Dataset train, test;
        if (testTable is not null)
        {
            train = all;
            test = new Dataset(Path.GetFileNameWithoutExtension(testTable.Path), shape, testTable.Features, testTable.Labels, targetSize: 1, classes);
        }
        else
        {
            if (all.Count < 2)
                throw new DataException($"{path}: has {all.Count} data row; splitting off a test set needs at least 2 (or pass a separate test file).");
            var (trainRows, testRows) = SplitRows(all.Count, options.TestFraction, options.SplitSeed);
            train = all.Subset(trainRows, name + "-train");
            test = all.Subset(testRows, name + "-test");
        }

        var normalization = options.Standardize ? Normalization.FitPerFeature(train) : Normalization.Identity;
        normalization.Apply(train);
        normalization.Apply(test);
        return new DataSplit(train, test, normalization);
    }

    /// <summary>
    /// Seeded hold-out: a shuffle of the row indices from the shuffle stream (seed, coordinates 0, 1)
    /// - apart from every epoch stream (seed, epoch, 0) - whose first share becomes the test rows.
    /// Both parts keep file order.
    /// </summary>
    public static (int[] Train, int[] Test) SplitRows(int rows, double testFraction, ulong seed)
    {
        if (rows < 2) throw new ArgumentOutOfRangeException(nameof(rows), $"Splitting needs at least 2 rows, got {rows}.");
        if (!(testFraction > 0 && testFraction < 1)) throw new ArgumentOutOfRangeException(nameof(testFraction), $"The test fraction must be between 0 and 1 (exclusive), got {testFraction}.");
        int testCount = Math.Clamp((int)Math.Round(rows * testFraction), 1, rows - 1);
        var order = EpochPermutation.Shuffle(RandomStream.For(seed, RandomPurpose.Shuffle, 0, 1), rows);
        var test = order[..testCount];
        var train = order[testCount..];
        Array.Sort(test);
        Array.Sort(train);
        return (train, test);
    }

    private static int DecideClasses(CsvTable table, CsvTask task)
    {
        if (task == CsvTask.Regression) return 0;
        if (task == CsvTask.Classification)
        {
            int classes = CheckClassLabels(table, int.MaxValue);
            if (classes < 2)
                throw new DataException($"{table.Path}: every label in column '{table.LabelName}' is 0; classification needs at least two classes.");
            return classes;
        }
        int largest = -1;
        var distinct = new HashSet<float>();
        foreach (var label in table.Labels)
        {
            if (!(label >= 0 && label < CsvOptions.AutoMaxClasses && label == MathF.Floor(label))) return 0;
            largest = Math.Max(largest, (int)label);
            distinct.Add(label);
        }
        return distinct.Count >= 2 ? largest + 1 : 0;
    }

    /// <summary>Checks that labels are class indices below <paramref name="limit"/>; returns the class count they need.</summary>
    private static int CheckClassLabels(CsvTable table, int limit)
    {
        int largest = 0;
        for (int row = 0; row < table.Rows; row++)
        {
            float label = table.Labels[row];
            if (!(label >= 0 && label == MathF.Floor(label) && label < limit))
                throw new DataException($"{table.Path} line {table.LineNumbers[row]}: label '{label}' in column '{table.LabelName}' is not a class index (an integer 0..{(limit == int.MaxValue ? "K-1" : (limit - 1).ToString())}); for real-valued targets choose regression.");
            largest = Math.Max(largest, (int)label);
        }
        return largest + 1;
    }
}

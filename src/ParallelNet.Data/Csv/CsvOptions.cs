namespace ParallelNet.Data;

/// <summary>What the label column of a CSV file means.</summary>
public enum CsvTask
{
    /// <summary>
    /// Classification when every training label is a non-negative integer below
    /// <see cref="CsvOptions.AutoMaxClasses"/> and there are at least two distinct ones; regression otherwise.
    /// </summary>
    Auto,
    /// <summary>Labels are class indices 0..K-1 (K = largest label + 1).</summary>
    Classification,
    /// <summary>Labels are real-valued targets.</summary>
    Regression,
}

/// <summary>How to read a CSV file of numeric features plus one label column.</summary>
public sealed record CsvOptions
{
    public const int AutoMaxClasses = 100;

    /// <summary>0-based column index of the label; negative counts from the end (-1 = last). Default: last.</summary>
    public int? LabelIndex { get; init; }
    /// <summary>Header name of the label column (needs a header row). Overrides <see cref="LabelIndex"/>.</summary>
    public string? LabelName { get; init; }
    /// <summary>Whether the first row is a header; null detects it (a first row with any non-number is a header).</summary>
    public bool? HasHeader { get; init; }
    public CsvTask Task { get; init; } = CsvTask.Auto;
    public char Delimiter { get; init; } = ',';
    /// <summary>A separate test file with the same columns; when set, <see cref="TestFraction"/> is not used.</summary>
    public string? TestFile { get; init; }
    /// <summary>Share of the rows held out for testing when there is no test file (chosen by a seeded shuffle).</summary>
    public double TestFraction { get; init; } = 0.2;
    public ulong SplitSeed { get; init; }
    /// <summary>Standardize every feature column with the training split's mean and std.</summary>
    public bool Standardize { get; init; } = true;
}

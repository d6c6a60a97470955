using System.Globalization;

namespace ParallelNet.Data.Internal;

/// <summary>The numbers of one CSV file: features row-major, one label per row, and the feature column names.</summary>
internal sealed class CsvTable
{
    private CsvTable(string path, string[] featureNames, string labelName, float[] features, float[] labels, int[] lineNumbers)
    {
        Path = path;
        FeatureNames = featureNames;
        LabelName = labelName;
        Features = features;
        Labels = labels;
        LineNumbers = lineNumbers;
    }

    public string Path { get; }
    public string[] FeatureNames { get; }
    public string LabelName { get; }
    public float[] Features { get; }
    public float[] Labels { get; }
    /// <summary>The file line of each row, for error messages about a row's label.</summary>
    public int[] LineNumbers { get; }
    public int Rows => Labels.Length;
    public int FeatureCount => FeatureNames.Length;

    public static CsvTable Read(string path, CsvOptions options)
    {
        StreamReader reader;
        try
        {
            reader = new StreamReader(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataException(e is FileNotFoundException or DirectoryNotFoundException
                ? $"{path}: file not found." : $"{path}: cannot read the file: {e.Message}", e);
        }
        using (reader) return Read(reader, path, options);
    }

    private static CsvTable Read(TextReader reader, string path, CsvOptions options)
    {
        string[]? names = null;
        int columns = -1, labelColumn = -1;
        var features = new List<float>();
        var labels = new List<float>();
        var lineNumbers = new List<int>();
        int lineNumber = 0;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var fields = SplitFields(line, options.Delimiter);
            if (columns < 0)
            {
                columns = fields.Length;
                if (columns < 2)
                    throw new DataException($"{path} line {lineNumber}: found {columns} column; a CSV data set needs at least one feature column and a label column (is the delimiter '{options.Delimiter}' right?).");
                bool looksLikeHeader = fields.Any(f => !TryParseNumber(f, out _));
                bool isHeader = options.HasHeader ?? looksLikeHeader;
                names = isHeader ? fields : Enumerable.Range(0, columns).Select(i => $"column{i}").ToArray();
                labelColumn = ResolveLabelColumn(path, options, names, isHeader);
                if (isHeader) continue;
            }
            if (fields.Length != columns)
                throw new DataException($"{path} line {lineNumber}: found {fields.Length} values, expected {columns} like the first row.");
            for (int c = 0; c < columns; c++)
            {
                if (!TryParseNumber(fields[c], out float value))
                {
                    string what = fields[c].Length == 0 ? "an empty value" : $"'{fields[c]}', which is not a finite number";
                    string hint = lineNumber == 1 ? " (if the first row is a header, say so)" : "";
                    throw new DataException($"{path} line {lineNumber}, column {c + 1} ({names![c]}): {what}{hint}.");
                }
                if (c == labelColumn) labels.Add(value);
                else features.Add(value);
            }
            lineNumbers.Add(lineNumber);
        }
        if (columns < 0 || labels.Count == 0)
            throw new DataException($"{path}: the file has no data rows.");
        var featureNames = names!.Where((_, i) => i != labelColumn).ToArray();
        return new CsvTable(path, featureNames, names![labelColumn], features.ToArray(), labels.ToArray(), lineNumbers.ToArray());
    }

    private static int ResolveLabelColumn(string path, CsvOptions options, string[] names, bool hasHeader)
    {
        if (options.LabelName is { } name)
        {
            if (!hasHeader)
                throw new DataException($"{path}: the label column is given by name ('{name}') but the file has no header row; give its index instead.");
            int found = Array.IndexOf(names, name);
            if (found < 0)
                throw new DataException($"{path}: no column named '{name}'; the header has: {string.Join(", ", names)}.");
            return found;
        }
        int index = options.LabelIndex ?? -1;
        int resolved = index < 0 ? names.Length + index : index;
        if (resolved < 0 || resolved >= names.Length)
            throw new DataException($"{path}: label column index {index} is outside the {names.Length} columns (use 0..{names.Length - 1}, or -1 for the last).");
        return resolved;
    }

    // Numeric tables need no quoting rules: surrounding quotes and spaces are dropped, and a
    // quoted delimiter is not supported (it would show up as a wrong column count).
    private static string[] SplitFields(string line, char delimiter)
    {
        var fields = line.Split(delimiter);
        for (int i = 0; i < fields.Length; i++)
        {
            var f = fields[i].Trim();
            if (f.Length >= 2 && f[0] == '"' && f[^1] == '"') f = f[1..^1].Trim();
            fields[i] = f;
        }
        return fields;
    }

    private static bool TryParseNumber(string text, out float value) =>
        float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && float.IsFinite(value);
}

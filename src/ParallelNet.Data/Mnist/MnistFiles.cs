namespace ParallelNet.Data;

/// <summary>The paths of the four MNIST IDX files in one directory.</summary>
public sealed record MnistFiles(string TrainImages, string TrainLabels, string TestImages, string TestLabels)
{
    /// <summary>The four files by their standard base names (each may also be found gzipped, or with a '.' before "idx").</summary>
    public static readonly IReadOnlyList<string> StandardNames =
        ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    /// <summary>The four files in <paramref name="directory"/>, or null when any one is missing.</summary>
    public static MnistFiles? Find(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!Directory.Exists(directory)) return null;
        var found = new string[StandardNames.Count];
        for (int i = 0; i < found.Length; i++)
        {
            var path = FindOne(directory, StandardNames[i]);
            if (path is null) return null;
            found[i] = path;
        }
        return new MnistFiles(found[0], found[1], found[2], found[3]);
    }

    /// <summary>Which of the four standard files <paramref name="directory"/> lacks (for error messages).</summary>
    public static IReadOnlyList<string> Missing(string directory) =>
        StandardNames.Where(name => !Directory.Exists(directory) || FindOne(directory, name) is null).ToList();

    private static string? FindOne(string directory, string baseName)
    {
        // Some redistributions spell the names "train-images.idx3-ubyte"; accept both spellings.
        string dotted = baseName.Replace("-idx", ".idx", StringComparison.Ordinal);
        foreach (var name in new[] { baseName, baseName + ".gz", dotted, dotted + ".gz" })
        {
            var path = Path.Combine(directory, name);
            if (File.Exists(path)) return path;
        }
        return null;
    }
}

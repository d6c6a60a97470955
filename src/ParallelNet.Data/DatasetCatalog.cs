namespace ParallelNet.Data;

/// <summary>Turns the --data argument of the command line into a train/test split.</summary>
public static class DatasetCatalog
{
    /// <summary>Seed of the built-in synthetic sets, so "spirals" means the same points everywhere.</summary>
    public const ulong SyntheticSeed = 42;

    public static readonly IReadOnlyList<string> Names = ["mnist", "spirals", "blobs", "linear"];

    /// <summary>
    /// "mnist" (from <paramref name="dataDirectory"/>, else the cache), "spirals", "blobs" or
    /// "linear" (synthetic, standardized per feature on the training part), or a path to a .csv
    /// file (label in the last column, header detected, 20 % held out with seed 0), or a directory
    /// holding the four MNIST files.
    /// </summary>
    /// <exception cref="DataException">Unknown name, missing or unreadable data.</exception>
    public static DataSplit Load(string nameOrPath, string? dataDirectory)
    {
        if (string.IsNullOrWhiteSpace(nameOrPath))
            throw new DataException($"No data set given; use one of {string.Join(", ", Names)} or a path to a .csv file.");
        switch (nameOrPath.Trim().ToLowerInvariant())
        {
            case "mnist":
                return MnistReader.Load(MnistFetcher.ResolveDirectory(dataDirectory));
            case "spirals":
                return Standardized(SyntheticData.Spirals(SyntheticSeed, part: 0), SyntheticData.Spirals(SyntheticSeed, part: 1));
            case "blobs":
                return Standardized(SyntheticData.Blobs(SyntheticSeed, part: 0), SyntheticData.Blobs(SyntheticSeed, samples: 300, part: 1));
            case "linear":
                return Standardized(SyntheticData.Linear(SyntheticSeed, part: 0), SyntheticData.Linear(SyntheticSeed, samples: 250, part: 1));
        }
        if (Directory.Exists(nameOrPath) && MnistFiles.Find(nameOrPath) is not null)
            return MnistReader.Load(nameOrPath);
        if (nameOrPath.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) || File.Exists(nameOrPath))
        {
            if (!File.Exists(nameOrPath))
                throw new DataException($"{nameOrPath}: file not found.");
            try
            {
                return CsvReader.Load(nameOrPath);
            }
            catch (ArgumentException e)
            {
                // The reader validates as it builds; whatever slips through is still the file's fault.
                throw new DataException($"{nameOrPath}: {e.Message}", e);
            }
        }
        throw new DataException($"Unknown data set '{nameOrPath}': use one of {string.Join(", ", Names)} or a path to a .csv file.");
    }

    private static DataSplit Standardized(Dataset train, Dataset test)
    {
        var normalization = Normalization.FitPerFeature(train);
        normalization.Apply(train);
        normalization.Apply(test);
        return new DataSplit(train, test, normalization);
    }
}

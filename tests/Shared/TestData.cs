namespace ParallelNet.Testing;

/// <summary>Where tests find MNIST: $PARALLELNET_MNIST_DIR, the workspace's shared/data/mnist next to the repository, or the fetch cache.</summary>
internal static class TestData
{
    public static string? FindMnistDirectory()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("PARALLELNET_MNIST_DIR");
        if (!string.IsNullOrEmpty(fromEnvironment) && Directory.Exists(fromEnvironment)) return fromEnvironment;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data", "mnist");
            if (HasMnist(candidate)) return candidate;
        }
        var cache = Environment.GetEnvironmentVariable("PARALLELNET_DATA") is { Length: > 0 } root
            ? Path.Combine(root, "mnist")
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "parallelnet", "mnist");
        return HasMnist(cache) ? cache : null;
    }

    public static string RequireMnistDirectory() => FindMnistDirectory()
        ?? throw new InvalidOperationException("MNIST not found: run `parallelnet data fetch mnist` or set PARALLELNET_MNIST_DIR.");

    /// <summary>The repository root (the folder holding ParallelNet.sln).</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ParallelNet.sln"))) return dir.FullName;
        throw new InvalidOperationException("Cannot find ParallelNet.sln above " + AppContext.BaseDirectory);
    }

    private static bool HasMnist(string dir) =>
        Directory.Exists(dir) && Directory.EnumerateFiles(dir, "train-images-idx3-ubyte*").Any();
}

using System.Runtime.CompilerServices;
using ParallelNet.Data;

namespace ParallelNet.Testing;

/// <summary>
/// Where tests find MNIST: $PARALLELNET_MNIST_DIR, the workspace's shared/data/mnist beside the
/// repository, or the fetch cache; when none has it, the tests fetch it like `parallelnet data fetch mnist`.
/// </summary>
internal static class TestData
{
    private static readonly Lazy<string> Mnist = new(LocateOrFetchMnist);

    public static string RequireMnistDirectory() => Mnist.Value;

    /// <summary>The repository root (the folder holding ParallelNet.sln).</summary>
    public static string RepositoryRoot([CallerFilePath] string sourceFile = "")
    {
        foreach (var start in StartingPoints(sourceFile))
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "ParallelNet.sln"))) return dir.FullName;
        throw new InvalidOperationException("Cannot find ParallelNet.sln above " + AppContext.BaseDirectory);
    }

    private static string LocateOrFetchMnist()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("PARALLELNET_MNIST_DIR");
        if (!string.IsNullOrEmpty(fromEnvironment) && HasMnist(fromEnvironment)) return fromEnvironment;
        foreach (var start in StartingPoints(SourceFile()))
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "shared", "data", "mnist");
                if (HasMnist(candidate)) return candidate;
            }
        }
        var cache = MnistFetcher.DefaultCacheDirectory();
        if (!HasMnist(cache)) MnistFetcher.FetchAsync(cache, TextWriter.Null, CancellationToken.None).GetAwaiter().GetResult();
        return cache;
    }

    private static string SourceFile([CallerFilePath] string path = "") => path;

    private static IEnumerable<string> StartingPoints(string sourceFile) =>
        new[] { AppContext.BaseDirectory, Environment.CurrentDirectory, Path.GetDirectoryName(sourceFile) ?? "" }.Where(Directory.Exists);

    private static bool HasMnist(string dir) => MnistFiles.Find(dir) is not null;
}

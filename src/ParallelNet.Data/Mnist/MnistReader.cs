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
        using var images = OpenImages(path);
        return (images.ReadScaled(255f, Normalization.Identity), images.Dims[0], images.Dims[1], images.Dims[2]);
    }

    /// <summary>Class indices 0..9 as floats.</summary>
    public static float[] ReadLabels(string path)
    {
        using var file = IdxStream.Open(path, IdxStream.LabelsMagic);
        if (file.Dims.Length != 1)
            throw new DataException($"{path}: a labels file has 1 dimension, this one has {file.Dims.Length}.");
        var data = file.ReadBytes();
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

        // The test set decompresses on a second core while the training set does on this one.
        var testLoad = Task.Run(() => LoadOne(files.TestImages, files.TestLabels, "mnist-test", normalization));
        var train = LoadOne(files.TrainImages, files.TrainLabels, "mnist-train", normalization);
        var test = testLoad.GetAwaiter().GetResult();
        if (train.SampleShape != test.SampleShape)
            throw new DataException($"{files.TestImages}: test images are {test.SampleShape} but training images ({files.TrainImages}) are {train.SampleShape}.");
        return new DataSplit(train, test, normalization);
    }

    private static Dataset LoadOne(string imagesPath, string labelsPath, string name, Normalization normalization)
    {
        var labels = ReadLabels(labelsPath);
        using var images = OpenImages(imagesPath);
        int count = images.Dims[0], rows = images.Dims[1], columns = images.Dims[2];
        if (labels.Length != count)
            throw new DataException($"{labelsPath}: holds {labels.Length} labels but {imagesPath} holds {count} images; the two files do not belong together.");
        return new Dataset(name, new Shape(1, rows, columns), images.ReadScaled(255f, normalization), labels, targetSize: 1, classes: Classes);
    }

    private static IdxStream OpenImages(string path)
    {
        var images = IdxStream.Open(path, IdxStream.ImagesMagic);
        if (images.Dims.Length != 3 || images.Dims[1] == 0 || images.Dims[2] == 0)
        {
            images.Dispose();
            throw new DataException(images.Dims.Length != 3
                ? $"{path}: an images file has 3 dimensions (count, rows, columns), this one has {images.Dims.Length}."
                : $"{path}: images of {images.Dims[1]}x{images.Dims[2]} pixels are empty; the file is corrupt.");
        }
        return images;
    }
}

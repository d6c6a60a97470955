using ParallelNet.Tensors;

namespace ParallelNet.Data;

/// <summary>
/// An in-memory data set: <see cref="Count"/> samples of shape <see cref="SampleShape"/>, stored
/// row-major in one flat <see cref="Features"/> array, with <see cref="TargetSize"/> targets per
/// sample. For classification the target is the class index stored as a float (TargetSize 1).
/// </summary>
public sealed class Dataset
{
    public Dataset(string name, Shape sampleShape, float[] features, float[] targets, int targetSize, int classes)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(targets);
        int sampleSize = sampleShape.Size;
        if (sampleShape.Rank == 0 || sampleSize == 0)
            throw new ArgumentException($"Data set '{name}': the sample shape {sampleShape} must have at least one dimension and one element.", nameof(sampleShape));
        if (targetSize < 1)
            throw new ArgumentOutOfRangeException(nameof(targetSize), $"Data set '{name}': target size must be at least 1, got {targetSize}.");
        if (classes < 0 || classes == 1)
            throw new ArgumentOutOfRangeException(nameof(classes), $"Data set '{name}': classes must be 0 (regression) or at least 2, got {classes}.");
        if (classes > 0 && targetSize != 1)
            throw new ArgumentException($"Data set '{name}': a classification set has one target (the class index) per sample, got target size {targetSize}.", nameof(targetSize));
        if (features.Length % sampleSize != 0)
            throw new ArgumentException($"Data set '{name}': {features.Length} feature values are not a whole number of samples of shape {sampleShape} ({sampleSize} values each).", nameof(features));
        int count = features.Length / sampleSize;
        if (targets.Length != (long)count * targetSize)
            throw new ArgumentException($"Data set '{name}': {count} samples need {(long)count * targetSize} targets, got {targets.Length}.", nameof(targets));
        if (classes > 0)
        {
            for (int i = 0; i < targets.Length; i++)
            {
                float t = targets[i];
                if (!(t >= 0 && t < classes && t == MathF.Floor(t)))
                    throw new ArgumentException($"Data set '{name}': sample {i} has target {t}, which is not a class index in 0..{classes - 1}.", nameof(targets));
            }
        }

        Name = name;
        SampleShape = sampleShape;
        SampleSize = sampleSize;
        Features = features;
        Targets = targets;
        TargetSize = targetSize;
        Classes = classes;
        Count = count;
    }

    public string Name { get; }
    public int Count { get; }
    /// <summary>Shape of one sample, without the batch dimension (e.g. [1, 28, 28] or [features]).</summary>
    public Shape SampleShape { get; }
    /// <summary>Number of feature values per sample (product of <see cref="SampleShape"/>).</summary>
    public int SampleSize { get; }
    /// <summary>Count * SampleSize values, sample after sample.</summary>
    public float[] Features { get; }
    /// <summary>Count * TargetSize values; the class index as a float for classification.</summary>
    public float[] Targets { get; }
    public int TargetSize { get; }
    /// <summary>Number of classes; 0 for regression.</summary>
    public int Classes { get; }
    public bool IsClassification => Classes > 0;

    public ReadOnlySpan<float> SampleFeatures(int index)
    {
        if ((uint)index >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(index), $"Sample index {index} is outside data set '{Name}' of {Count} samples.");
        return Features.AsSpan(index * SampleSize, SampleSize);
    }

    /// <summary>
    /// Gathers the samples at <paramref name="indices"/> into consecutive rows of
    /// <paramref name="features"/> and <paramref name="targets"/>. Allocates nothing.
    /// </summary>
    public void CopyBatch(ReadOnlySpan<int> indices, Span<float> features, Span<float> targets)
    {
        long featuresNeeded = (long)indices.Length * SampleSize;
        long targetsNeeded = (long)indices.Length * TargetSize;
        if (features.Length < featuresNeeded)
            throw new ArgumentException($"A batch of {indices.Length} samples from '{Name}' needs {featuresNeeded} feature values, but the buffer holds {features.Length}.", nameof(features));
        if (targets.Length < targetsNeeded)
            throw new ArgumentException($"A batch of {indices.Length} samples from '{Name}' needs {targetsNeeded} target values, but the buffer holds {targets.Length}.", nameof(targets));

        var source = Features.AsSpan();
        var sourceTargets = Targets.AsSpan();
        for (int row = 0; row < indices.Length; row++)
        {
            int sample = indices[row];
            if ((uint)sample >= (uint)Count)
                throw new ArgumentOutOfRangeException(nameof(indices), $"Batch row {row} asks for sample {sample}, but '{Name}' has {Count} samples.");
            source.Slice(sample * SampleSize, SampleSize).CopyTo(features.Slice(row * SampleSize, SampleSize));
            sourceTargets.Slice(sample * TargetSize, TargetSize).CopyTo(targets.Slice(row * TargetSize, TargetSize));
        }
    }

    /// <summary>A new data set holding copies of the samples at <paramref name="indices"/>, in that order.</summary>
    public Dataset Subset(ReadOnlySpan<int> indices, string name)
    {
        var features = new float[(long)indices.Length * SampleSize];
        var targets = new float[(long)indices.Length * TargetSize];
        CopyBatch(indices, features, targets);
        return new Dataset(name, SampleShape, features, targets, TargetSize, Classes);
    }

    public override string ToString() =>
        $"{Name}: {Count} samples of {SampleShape}, " + (IsClassification ? $"{Classes} classes" : $"{TargetSize} regression target(s)");
}

using System.Globalization;
using System.Numerics.Tensors;

namespace ParallelNet.Data;

/// <summary>
/// Standardization x' = (x - mean) / std, fitted on a training set and applied to every split.
/// Three forms: identity (no values), global (one mean/std for all features, used for images) and
/// per-feature (one mean/std per feature column, used for tables). It round-trips through a small
/// string dictionary because it is stored in checkpoint metadata with the model.
/// </summary>
public sealed class Normalization : IEquatable<Normalization>
{
    /// <summary>The MNIST training-set pixel statistics (of pixels scaled to [0, 1]) that everyone uses.</summary>
    public const float MnistMean = 0.1307f, MnistStd = 0.3081f;

    public const string MeanKey = "normalization.mean";
    public const string StdKey = "normalization.std";

    private readonly float[] _mean;
    private readonly float[] _std;

    private Normalization(float[] mean, float[] std)
    {
        if (mean.Length != std.Length)
            throw new ArgumentException($"Normalization needs as many standard deviations as means, got {mean.Length} means and {std.Length} stds.");
        for (int i = 0; i < mean.Length; i++)
        {
            if (!float.IsFinite(mean[i])) throw new ArgumentException($"Normalization mean {i} is {mean[i]}; it must be a finite number.");
            if (!(std[i] > 0) || !float.IsFinite(std[i])) throw new ArgumentException($"Normalization std {i} is {std[i]}; it must be a positive finite number.");
        }
        _mean = mean;
        _std = std;
    }

    public static Normalization Identity { get; } = new([], []);
    public static Normalization Mnist { get; } = Global(MnistMean, MnistStd);

    public static Normalization Global(float mean, float std) => new([mean], [std]);

    public static Normalization PerFeature(ReadOnlySpan<float> mean, ReadOnlySpan<float> std) => new(mean.ToArray(), std.ToArray());

    public bool IsIdentity => _mean.Length == 0;
    public bool IsGlobal => _mean.Length == 1;
    /// <summary>One mean per feature (or a single one for global normalization; none for identity).</summary>
    public ReadOnlySpan<float> Mean => _mean;
    public ReadOnlySpan<float> Std => _std;

    /// <summary>
    /// One mean and (population) standard deviation over every feature value of the set.
    /// Accumulated in double, sample by sample, so the result does not depend on any thread count.
    /// </summary>
    public static Normalization FitGlobal(Dataset train)
    {
        ArgumentNullException.ThrowIfNull(train);
        var values = train.Features.AsSpan();
        if (values.Length == 0) throw new ArgumentException($"Cannot fit a normalization on the empty data set '{train.Name}'.");
        double sum = 0;
        for (int i = 0; i < values.Length; i++) sum += values[i];
        double mean = sum / values.Length;
        double squares = 0;
        for (int i = 0; i < values.Length; i++)
        {
            double d = values[i] - mean;
            squares += d * d;
        }
        return Global((float)mean, ToUsableStd(Math.Sqrt(squares / values.Length)));
    }

    /// <summary>Per-feature mean and (population) standard deviation; a constant column gets std 1.</summary>
    public static Normalization FitPerFeature(Dataset train)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (train.Count == 0) throw new ArgumentException($"Cannot fit a normalization on the empty data set '{train.Name}'.");
        int width = train.SampleSize;
        var sums = new double[width];
        var squares = new double[width];
        for (int s = 0; s < train.Count; s++)
        {
            var row = train.Features.AsSpan(s * width, width);
            for (int f = 0; f < width; f++) sums[f] += row[f];
        }
        var means = new double[width];
        for (int f = 0; f < width; f++) means[f] = sums[f] / train.Count;
        for (int s = 0; s < train.Count; s++)
        {
            var row = train.Features.AsSpan(s * width, width);
            for (int f = 0; f < width; f++)
            {
                double d = row[f] - means[f];
                squares[f] += d * d;
            }
        }
        var mean = new float[width];
        var std = new float[width];
        for (int f = 0; f < width; f++)
        {
            mean[f] = (float)means[f];
            std[f] = ToUsableStd(Math.Sqrt(squares[f] / train.Count));
        }
        return new Normalization(mean, std);
    }

    /// <summary>Standardizes the features of <paramref name="data"/> in place.</summary>
    public void Apply(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (IsIdentity) return;
        if (!IsGlobal && _mean.Length != data.SampleSize)
            throw new ArgumentException($"This normalization has {_mean.Length} feature columns but data set '{data.Name}' has {data.SampleSize} features per sample.");
        Apply(data.Features);
    }

    /// <summary>Standardizes rows of features (a whole number of samples) in place.</summary>
    public void Apply(Span<float> features)
    {
        if (IsIdentity) return;
        if (IsGlobal)
        {
            TensorPrimitives.Subtract(features, _mean[0], features);
            TensorPrimitives.Divide(features, _std[0], features);
            return;
        }
        int width = _mean.Length;
        if (features.Length % width != 0)
            throw new ArgumentException($"{features.Length} values are not whole rows of {width} features.", nameof(features));
        for (int start = 0; start < features.Length; start += width)
        {
            var row = features.Slice(start, width);
            TensorPrimitives.Subtract(row, _mean, row);
            TensorPrimitives.Divide(row, _std, row);
        }
    }

    /// <summary>The two metadata entries (empty values for identity); floats in round-trip form.</summary>
    public IReadOnlyDictionary<string, string> ToMetadata() => new Dictionary<string, string>
    {
        [MeanKey] = Join(_mean),
        [StdKey] = Join(_std),
    };

    /// <summary>Reads what <see cref="ToMetadata"/> wrote; a missing pair of keys means identity.</summary>
    public static Normalization FromMetadata(IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        bool hasMean = metadata.TryGetValue(MeanKey, out var mean);
        bool hasStd = metadata.TryGetValue(StdKey, out var std);
        if (!hasMean && !hasStd) return Identity;
        if (!hasMean || !hasStd)
            throw new DataException($"The normalization metadata has '{(hasMean ? MeanKey : StdKey)}' but not '{(hasMean ? StdKey : MeanKey)}'; both are needed.");
        try
        {
            return new Normalization(Split(mean!, MeanKey), Split(std!, StdKey));
        }
        catch (ArgumentException e)
        {
            throw new DataException($"The normalization metadata is invalid: {e.Message}", e);
        }
    }

    /// <summary>A one-line form, e.g. "mean=0.1307;std=0.3081" ("identity" for none).</summary>
    public string Serialize() => IsIdentity ? "identity" : $"mean={Join(_mean)};std={Join(_std)}";

    public static Normalization Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = text.Trim();
        if (text is "identity" or "") return Identity;
        var parts = text.Split(';');
        if (parts.Length != 2 || !parts[0].StartsWith("mean=", StringComparison.Ordinal) || !parts[1].StartsWith("std=", StringComparison.Ordinal))
            throw new DataException($"Cannot read normalization '{text}': expected 'mean=m1,m2,...;std=s1,s2,...' or 'identity'.");
        return FromMetadata(new Dictionary<string, string> { [MeanKey] = parts[0]["mean=".Length..], [StdKey] = parts[1]["std=".Length..] });
    }

    public bool Equals(Normalization? other) =>
        other is not null && _mean.AsSpan().SequenceEqual(other._mean) && _std.AsSpan().SequenceEqual(other._std);
    public override bool Equals(object? obj) => Equals(obj as Normalization);
    public override int GetHashCode() => Serialize().GetHashCode(StringComparison.Ordinal);
    public override string ToString() => Serialize();

    // A constant feature carries no information; dividing by 1 keeps it finite instead of NaN.
    private static float ToUsableStd(double std) => std > 1e-12 && (float)std > 0 ? (float)std : 1f;

    private static string Join(float[] values) => string.Join(",", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));

    private static float[] Split(string text, string key)
    {
        if (string.IsNullOrWhiteSpace(text)) return [];
        var parts = text.Split(',');
        var values = new float[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]))
                throw new DataException($"The normalization metadata '{key}' has '{parts[i]}' at position {i}, which is not a number.");
        }
        return values;
    }
}

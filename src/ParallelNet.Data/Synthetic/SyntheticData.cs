using ParallelNet.Tensors;
using ParallelNet.Tensors.Random;

namespace ParallelNet.Data;

/// <summary>
/// Small generated data sets for quick experiments and tests. Every value is a pure function of the
/// seed: it comes from RandomStream.For(seed, Synthetic, set, part, quantity), where part tells
/// train and test apart, so the same seed gives the same set on any machine.
/// </summary>
public static class SyntheticData
{
    private enum SetId : long { Spirals = 1, Blobs = 2, Linear = 3 }
    private enum Quantity : long { Noise = 1, Center = 2, Member = 3, Input = 4, Weight = 5 }

    /// <summary>
    /// K interleaved spiral arms in 2-D (the CS231n set): arm k has points at radius r = i/(n-1)
    /// and angle 4(k + r) plus gaussian noise of std <paramref name="noise"/>. Class = arm.
    /// </summary>
    public static Dataset Spirals(ulong seed, int classes = 3, int pointsPerClass = 100, float noise = 0.2f, int part = 0)
    {
        if (classes < 2) throw new ArgumentOutOfRangeException(nameof(classes), $"Spirals need at least 2 classes, got {classes}.");
        if (pointsPerClass < 1) throw new ArgumentOutOfRangeException(nameof(pointsPerClass), $"Spirals need at least 1 point per class, got {pointsPerClass}.");
        if (!(noise >= 0)) throw new ArgumentOutOfRangeException(nameof(noise), $"The noise std must be non-negative, got {noise}.");
        var noiseStream = Stream(seed, SetId.Spirals, part, Quantity.Noise);
        int count = classes * pointsPerClass;
        var features = new float[count * 2];
        var targets = new float[count];
        for (int k = 0; k < classes; k++)
        {
            for (int i = 0; i < pointsPerClass; i++)
            {
                int n = k * pointsPerClass + i;
                double radius = pointsPerClass == 1 ? 1.0 : (double)i / (pointsPerClass - 1);
                double angle = 4.0 * (k + radius) + noise * noiseStream.Normal((ulong)n);
                features[2 * n] = (float)(radius * Math.Sin(angle));
                features[2 * n + 1] = (float)(radius * Math.Cos(angle));
                targets[n] = k;
            }
        }
        return new Dataset(PartName("spirals", part), new Shape(2), features, targets, targetSize: 1, classes);
    }

    /// <summary>
    /// Gaussian blobs: <paramref name="classes"/> centers drawn uniformly in [-10, 10]^d (shared by
    /// every part of the same seed), samples dealt round-robin to the classes with isotropic noise.
    /// </summary>
    public static Dataset Blobs(ulong seed, int samples = 600, int classes = 3, int dimensions = 2, float clusterStd = 1f, int part = 0)
    {
        if (samples < 1) throw new ArgumentOutOfRangeException(nameof(samples), $"Blobs need at least 1 sample, got {samples}.");
        if (classes < 2) throw new ArgumentOutOfRangeException(nameof(classes), $"Blobs need at least 2 classes, got {classes}.");
        if (dimensions < 1) throw new ArgumentOutOfRangeException(nameof(dimensions), $"Blobs need at least 1 dimension, got {dimensions}.");
        if (!(clusterStd >= 0)) throw new ArgumentOutOfRangeException(nameof(clusterStd), $"The cluster std must be non-negative, got {clusterStd}.");
        var centers = BlobCenters(seed, classes, dimensions);
        var member = Stream(seed, SetId.Blobs, part, Quantity.Member);
        var features = new float[samples * dimensions];
        var targets = new float[samples];
        for (int n = 0; n < samples; n++)
        {
            int k = n % classes;
            targets[n] = k;
            for (int d = 0; d < dimensions; d++)
                features[n * dimensions + d] = centers[k * dimensions + d] + clusterStd * member.Normal((ulong)(n * dimensions + d));
        }
        return new Dataset(PartName("blobs", part), new Shape(dimensions), features, targets, targetSize: 1, classes);
    }

    /// <summary>The blob centers of <paramref name="seed"/>, class after class (classes x dimensions).</summary>
    public static float[] BlobCenters(ulong seed, int classes, int dimensions)
    {
        var stream = Stream(seed, SetId.Blobs, 0, Quantity.Center);
        var centers = new float[classes * dimensions];
        stream.FillUniform(0, centers);
        for (int i = 0; i < centers.Length; i++) centers[i] = 20f * centers[i] - 10f;
        return centers;
    }

    /// <summary>
    /// Noisy linear regression: x ~ N(0, I_d), y = x·w + b + noise·N(0, 1), with w ~ N(0, 1) per
    /// feature and b ~ N(0, 1), shared by every part of the same seed (see <see cref="LinearCoefficients"/>).
    /// </summary>
    public static Dataset Linear(ulong seed, int samples = 1000, int features = 8, float noise = 0.1f, int part = 0)
    {
        if (samples < 1) throw new ArgumentOutOfRangeException(nameof(samples), $"Linear regression needs at least 1 sample, got {samples}.");
        if (features < 1) throw new ArgumentOutOfRangeException(nameof(features), $"Linear regression needs at least 1 feature, got {features}.");
        if (!(noise >= 0)) throw new ArgumentOutOfRangeException(nameof(noise), $"The noise std must be non-negative, got {noise}.");
        var (weights, bias) = LinearCoefficients(seed, features);
        var input = Stream(seed, SetId.Linear, part, Quantity.Input);
        var noiseStream = Stream(seed, SetId.Linear, part, Quantity.Noise);
        var x = new float[samples * features];
        var y = new float[samples];
        for (int n = 0; n < samples; n++)
        {
            double sum = bias;
            for (int f = 0; f < features; f++)
            {
                float value = input.Normal((ulong)(n * features + f));
                x[n * features + f] = value;
                sum += (double)value * weights[f];
            }
            y[n] = (float)(sum + noise * noiseStream.Normal((ulong)n));
        }
        return new Dataset(PartName("linear", part), new Shape(features), x, y, targetSize: 1, classes: 0);
    }

    /// <summary>The true weights and bias behind <see cref="Linear"/> for <paramref name="seed"/>.</summary>
    public static (float[] Weights, float Bias) LinearCoefficients(ulong seed, int features)
    {
        var stream = Stream(seed, SetId.Linear, 0, Quantity.Weight);
        var weights = new float[features];
        for (int f = 0; f < features; f++) weights[f] = stream.Normal((ulong)f);
        return (weights, stream.Normal((ulong)features));
    }

    private static RandomStream Stream(ulong seed, SetId set, int part, Quantity quantity) =>
        RandomStream.For(seed, RandomPurpose.Synthetic, (long)set, part, (long)quantity);

    private static string PartName(string set, int part) => part switch { 0 => set + "-train", 1 => set + "-test", _ => $"{set}-part{part}" };
}

namespace ParallelNet.Data.Tests;

public sealed class SyntheticDataTests
{
    [Fact]
    public void Spirals_are_deterministic_and_seed_dependent()
    {
        var a = SyntheticData.Spirals(5, classes: 4, pointsPerClass: 30);
        var b = SyntheticData.Spirals(5, classes: 4, pointsPerClass: 30);
        var c = SyntheticData.Spirals(6, classes: 4, pointsPerClass: 30);
        var test = SyntheticData.Spirals(5, classes: 4, pointsPerClass: 30, part: 1);

        Assert.Equal(120, a.Count);
        Assert.Equal(4, a.Classes);
        Assert.Equal(a.Features, b.Features);
        Assert.NotEqual(a.Features, c.Features);
        Assert.NotEqual(a.Features, test.Features);
        Assert.Equal(Enumerable.Range(0, 4).SelectMany(k => Enumerable.Repeat((float)k, 30)), a.Targets);
    }

    [Fact]
    public void Spirals_without_noise_lie_on_their_arm()
    {
        var data = SyntheticData.Spirals(1, classes: 3, pointsPerClass: 11, noise: 0);
        // Point i of arm k sits at radius i/10 and angle 4 (k + r).
        int n = 2 * 11 + 5;
        double r = 0.5, angle = 4 * (2 + r);
        Assert.Equal(r * Math.Sin(angle), data.Features[2 * n], 6);
        Assert.Equal(r * Math.Cos(angle), data.Features[2 * n + 1], 6);
    }

    [Fact]
    public void Blobs_cluster_around_their_centers()
    {
        var data = SyntheticData.Blobs(9, samples: 3000, classes: 3, dimensions: 2, clusterStd: 0.5f);
        var centers = SyntheticData.BlobCenters(9, 3, 2);
        Assert.All(centers, c => Assert.InRange(c, -10f, 10f));
        for (int k = 0; k < 3; k++)
        {
            for (int d = 0; d < 2; d++)
            {
                var values = Enumerable.Range(0, data.Count).Where(n => data.Targets[n] == k).Select(n => (double)data.Features[n * 2 + d]).ToArray();
                double mean = values.Average();
                double std = Math.Sqrt(values.Select(v => (v - mean) * (v - mean)).Average());
                Assert.Equal(centers[k * 2 + d], mean, 0.06);
                Assert.Equal(0.5, std, 0.05);
            }
        }
    }

    [Fact]
    public void Linear_targets_follow_the_true_coefficients()
    {
        const int features = 3;
        var data = SyntheticData.Linear(4, samples: 400, features: features, noise: 0.05f);
        var (weights, bias) = SyntheticData.LinearCoefficients(4, features);
        double squaredResidual = 0;
        for (int n = 0; n < data.Count; n++)
        {
            double prediction = bias;
            for (int f = 0; f < features; f++) prediction += data.Features[n * features + f] * weights[f];
            squaredResidual += Math.Pow(data.Targets[n] - prediction, 2);
        }
        double residualStd = Math.Sqrt(squaredResidual / data.Count);
        Assert.InRange(residualStd, 0.04, 0.06);
        Assert.Equal(data.Features, SyntheticData.Linear(4, samples: 400, features: features, noise: 0.05f).Features);
    }
}

using ParallelNet.Cli.Bench;

namespace ParallelNet.Cli.Tests.Bench;

public class TrainBenchmarkTests
{
    [Theory]
    [InlineData(900, 128, 60_000)]   // 468 steps an epoch: two epochs
    [InlineData(1600, 128, 60_000)]  // past the three epochs a train spec defaults to
    [InlineData(468, 128, 60_000)]   // exactly one epoch's steps
    [InlineData(10, 128, 50)]        // fewer samples than a batch: one step an epoch
    public void TheEpochsCoverEveryTimedStep(long steps, int batch, int samples)
    {
        int epochs = TrainBenchmark.EpochsCovering(steps, batch, samples);

        long stepsPerEpoch = Math.Max(1, samples / batch);
        Assert.True(epochs * stepsPerEpoch >= steps, $"{epochs} epochs of {stepsPerEpoch} steps run fewer than {steps} steps");
        Assert.True((epochs - 1) * stepsPerEpoch <= steps, "no more than one spare epoch");
    }

    [Fact]
    public void StepsBeyondAnyEpochCountAreAUsageError()
    {
        var error = Assert.Throws<UsageException>(() => TrainBenchmark.EpochsCovering(long.MaxValue, 128, 60_000));
        Assert.Contains("time fewer steps", error.Message);
    }
}

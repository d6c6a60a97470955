using ParallelNet.Testing;

namespace ParallelNet.Cli.Tests;

/// <summary>The lstm preset end to end on MNIST (rows as steps): the accuracy bar and reproducibility.</summary>
public sealed class LstmTrainingTests
{
    private static string Mnist => TestData.RequireMnistDirectory();

    [Fact]
    [Trait("Category", "Slow")]
    public void LstmReaches97PercentInThreeEpochsWithAdam()
    {
        var run = CliRunner.Run(TimeSpan.FromMinutes(20), "train", "--model", "lstm", "--data", "mnist", "--data-dir", Mnist, "--epochs", "3",
            "--optimizer", "adam", "--lr", "0.002", "--json");
        Assert.True(run.ExitCode == 0, run.Error);
        double accuracy = run.Summary.GetProperty("test_accuracy").GetDouble();
        Assert.True(accuracy >= 0.97, $"lstm test accuracy {accuracy:P2} after 3 epochs, expected >= 97 %");
        Assert.Equal(82186, run.Summary.GetProperty("parameters").GetInt64());
    }

    // Slow only for the two evaluations of 10,000 test sequences; SequenceDeterminismTests covers the kernels quickly.
    [Fact]
    [Trait("Category", "Slow")]
    public void SameSeedGivesTheSameLstmWeightsTwice()
    {
        string[] args = ["train", "--model", "lstm", "--data", "mnist", "--data-dir", Mnist, "--max-steps", "8", "--optimizer", "adam", "--lr", "0.002", "--json", "--seed", "4"];
        var first = CliRunner.Run(args);
        var second = CliRunner.Run(args);
        Assert.True(first.ExitCode == 0, first.Error);
        Assert.Equal(8, first.Summary.GetProperty("steps").GetInt64());
        Assert.Equal(first.Summary.GetProperty("weights_sha256").GetString(), second.Summary.GetProperty("weights_sha256").GetString());
    }
}

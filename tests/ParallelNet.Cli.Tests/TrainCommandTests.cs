using ParallelNet.Testing;

namespace ParallelNet.Cli.Tests;

public sealed class TrainCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("pn-cli-").FullName;
    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static string Mnist => TestData.RequireMnistDirectory();

    [Theory]
    [InlineData("mlp")]
    [InlineData("cnn")]
    public void SameSeedGivesTheSameWeightsTwiceAndTheSummaryHasItsFields(string model)
    {
        string[] args = ["train", "--model", model, "--data", "mnist", "--data-dir", Mnist, "--max-steps", "20", "--json", "--seed", "3"];
        var first = CliRunner.Run(args);
        var second = CliRunner.Run(args);
        Assert.True(first.ExitCode == 0, first.Error);
        var summary = first.Summary;
        foreach (var field in new[] { "test_accuracy", "test_loss", "train_loss", "epochs", "steps", "samples_per_second", "parameters", "weights_sha256" })
            Assert.True(summary.TryGetProperty(field, out _), $"summary lacks {field}: {summary}");
        Assert.Equal(20, summary.GetProperty("steps").GetInt64());
        Assert.Equal(64, summary.GetProperty("weights_sha256").GetString()!.Length);
        Assert.Equal(summary.GetProperty("weights_sha256").GetString(), second.Summary.GetProperty("weights_sha256").GetString());
    }

    [Fact]
    public void MlpReaches97Point5PercentInThreeEpochs()
    {
        var run = CliRunner.Run("train", "--model", "mlp", "--data", "mnist", "--data-dir", Mnist, "--epochs", "3",
            "--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9", "--batch-size", "128", "--json");
        Assert.True(run.ExitCode == 0, run.Error);
        double accuracy = run.Summary.GetProperty("test_accuracy").GetDouble();
        Assert.True(accuracy >= 0.975, $"mlp test accuracy {accuracy:P2} after 3 epochs, expected >= 97.5 %");
        Assert.Equal(3, run.JsonLines.Count(l => l.GetProperty("event").GetString() == "epoch"));
    }

    [Fact]
    public void CnnReaches98Point6PercentInTwoEpochsAndEvalAgrees()
    {
        string checkpoint = Path.Combine(_directory, "cnn.safetensors");
        var run = CliRunner.Run("train", "--model", "cnn", "--data", "mnist", "--data-dir", Mnist, "--epochs", "2",
            "--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9", "--batch-size", "128", "--json", "--checkpoint", checkpoint);
        Assert.True(run.ExitCode == 0, run.Error);
        double accuracy = run.Summary.GetProperty("test_accuracy").GetDouble();
        Assert.True(accuracy >= 0.986, $"cnn test accuracy {accuracy:P2} after 2 epochs, expected >= 98.6 %");

        var eval = CliRunner.Run("eval", "--checkpoint", checkpoint, "--data", "mnist", "--data-dir", Mnist, "--json");
        Assert.True(eval.ExitCode == 0, eval.Error);
        Assert.Equal(accuracy, eval.JsonLines.Single().GetProperty("test_accuracy").GetDouble(), 6);
    }

    [Fact]
    public void ResumeWithOtherWorkerCountsContinuesToTheSameWeightsAsAnUninterruptedRun()
    {
        string checkpoint = Path.Combine(_directory, "mlp.safetensors");
        string[] common = ["--data", "mnist", "--data-dir", Mnist, "--json", "--seed", "5"];
        var whole = CliRunner.Run(["train", "--model", "mlp", "--max-steps", "30", "--workers", "1", .. common]);
        var half = CliRunner.Run(["train", "--model", "mlp", "--max-steps", "13", "--workers", "3", "--checkpoint", checkpoint, .. common]);
        Assert.Equal(3, half.JsonLines.Count(l => l.GetProperty("event").GetString() == "worker" && l.GetProperty("status").GetString() == "joined"));
        var rest = CliRunner.Run(["train", "--resume", checkpoint, "--max-steps", "30", "--workers", "2", .. common]);
        Assert.True(rest.ExitCode == 0, rest.Error);
        Assert.Equal(whole.Summary.GetProperty("weights_sha256").GetString(), rest.Summary.GetProperty("weights_sha256").GetString());
        Assert.Equal(30, rest.Summary.GetProperty("steps").GetInt64());
    }

    [Fact]
    public void ABitFlippedCheckpointIsNotResumed()
    {
        string checkpoint = Path.Combine(_directory, "flipped.safetensors");
        var first = CliRunner.Run("train", "--data", "spirals", "--model", "softmax-regression", "--max-steps", "3", "--checkpoint", checkpoint, "--json");
        Assert.True(first.ExitCode == 0, first.Error);
        var bytes = File.ReadAllBytes(checkpoint);
        bytes[^3] ^= 0x10;
        File.WriteAllBytes(checkpoint, bytes);
        var resumed = CliRunner.Run("train", "--data", "spirals", "--resume", checkpoint, "--json");
        Assert.Equal(1, resumed.ExitCode);
        Assert.Contains("checksum", resumed.Error);
        Assert.DoesNotContain(resumed.JsonLines, l => l.GetProperty("event").GetString() == "summary");
    }
}

using System.Diagnostics;
using System.Text.Json;
using ParallelNet.Testing;

namespace ParallelNet.Cli.Tests;

/// <summary>A checkpoint loads into the equivalent torch.nn.Sequential (strict names and shapes) and predicts the same.</summary>
public sealed class PyTorchCompatibilityTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("pn-torch-").FullName;
    public void Dispose() => Directory.Delete(_directory, recursive: true);

    // Slow only because 10,000 test sequences of 28 LSTM steps take a while on a shared machine.
    [Fact]
    [Trait("Category", "Slow")]
    public void LstmCheckpointLoadsIntoTorchWithTheSameTestAccuracy() => CheckpointLoadsIntoTorchSequentialWithTheSameTestAccuracy("lstm");

    [Theory]
    [InlineData("mlp")]
    [InlineData("cnn")]
    public void CheckpointLoadsIntoTorchSequentialWithTheSameTestAccuracy(string model)
    {
        string mnist = TestData.RequireMnistDirectory();
        string checkpoint = Path.Combine(_directory, model + ".safetensors");
        var train = CliRunner.Run("train", "--model", model, "--data", "mnist", "--data-dir", mnist, "--max-steps", "40", "--json", "--checkpoint", checkpoint);
        Assert.True(train.ExitCode == 0, train.Error);
        double ours = train.Summary.GetProperty("test_accuracy").GetDouble();

        string script = Path.Combine(TestData.RepositoryRoot(), "tests", "ParallelNet.Cli.Tests", "Interop", "load_in_torch.py");
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { script, checkpoint, mnist, model }) start.ArgumentList.Add(a);
        using var python = Process.Start(start)!;
        string output = python.StandardOutput.ReadToEnd();
        string error = python.StandardError.ReadToEnd();
        python.WaitForExit();
        Assert.True(python.ExitCode == 0, $"PyTorch could not load the checkpoint: {error}");
        using var result = JsonDocument.Parse(output);
        double theirs = result.RootElement.GetProperty("test_accuracy").GetDouble();
        // Same weights, same data: only float summation order differs, which may flip a prediction or two of 10,000.
        Assert.InRange(Math.Abs(theirs - ours), 0, 0.0005);
        Assert.Equal(train.Summary.GetProperty("parameters").GetInt64(), result.RootElement.GetProperty("parameters").GetInt64());
    }
}

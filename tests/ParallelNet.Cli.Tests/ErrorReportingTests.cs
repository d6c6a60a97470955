namespace ParallelNet.Cli.Tests;

/// <summary>User mistakes end in one clear line on stderr and a non-zero exit code, never a stack trace.</summary>
public sealed class ErrorReportingTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("pn-err-").FullName;
    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static void AssertOneLineError(CliRunner.Result run, string expected)
    {
        Assert.NotEqual(0, run.ExitCode);
        var lines = run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{run.Error}");
        Assert.Contains(expected, lines[0], StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("   at ", run.Error);
    }

    [Fact]
    public void UnknownModel() => AssertOneLineError(CliRunner.Run("train", "--model", "transformer", "--data", "spirals"), "transformer");

    [Fact]
    public void MissingData() => AssertOneLineError(CliRunner.Run("train", "--model", "mlp", "--data", "mnist", "--data-dir", "/nonexistent/dir"), "data fetch mnist");

    [Fact]
    public void MissingCsvFile() => AssertOneLineError(CliRunner.Run("train", "--data", "/nonexistent/file.csv"), "file.csv");

    [Fact]
    public void BadFlagValue() => AssertOneLineError(CliRunner.Run("train", "--epochs", "many"), "many");

    [Fact]
    public void ABadFlagOfASubcommandPointsToThatSubcommandsHelp() =>
        AssertOneLineError(CliRunner.Run("bench", "train", "--threads", "1,2"), "(see 'parallelnet bench train --help')");

    [Fact]
    public void ABadFlagOfACommandPointsToItsHelp() => AssertOneLineError(CliRunner.Run("train", "--epochs", "many"), "(see 'parallelnet train --help')");

    [Fact]
    public void UnknownFlag() => AssertOneLineError(CliRunner.Run("train", "--epoch", "3"), "--epoch");

    [Fact]
    public void BadOptimizer() => AssertOneLineError(CliRunner.Run("train", "--data", "spirals", "--model", "softmax-regression", "--optimizer", "rmsprop"), "rmsprop");

    [Fact]
    public void NonPowerOfTwoShards() => AssertOneLineError(CliRunner.Run("train", "--data", "spirals", "--model", "softmax-regression", "--virtual-shards", "3"), "power of two");

    [Fact]
    public void BadModelSpec()
    {
        string spec = Path.Combine(_directory, "bad.yaml");
        File.WriteAllText(spec, "input: [2]\nloss: cross_entropy\nlayers:\n  - type: linear\n    out: -4\n");
        AssertOneLineError(CliRunner.Run("train", "--model-file", spec, "--data", "spirals"), "out");
    }

    [Fact]
    public void NaNLossFailsTheRun()
    {
        var run = CliRunner.Run("train", "--data", "linear", "--model", "linear", "--lr", "1e30", "--epochs", "3", "--json");
        AssertOneLineError(run, "non-finite");
    }

    [Fact]
    public void CorruptCheckpointIsRefused()
    {
        string path = Path.Combine(_directory, "junk.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        AssertOneLineError(CliRunner.Run("eval", "--checkpoint", path, "--data", "spirals"), "truncated");
    }
}

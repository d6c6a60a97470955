using ParallelNet.Cli.Bench;

namespace ParallelNet.Cli.Tests.Bench;

public class GemmBenchmarkTests
{
    [Fact]
    public void PrintsOneRowPerShapeAndThreadCount()
    {
        var output = new StringWriter();
        int exitCode = GemmBenchmark.Run(new GemmBenchmarkOptions { Threads = [1], Repeats = 1, Batches = [4], WarmUpPasses = 2, WarmUpSeconds = 0, IncludeSquare = false }, output);

        Assert.Equal(0, exitCode);
        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // The 8 MLP products of one batch size (3 forward, 3 weight gradients, 2 input gradients) at one thread count.
        Assert.Equal(8, lines.Count(line => line.Contains(" B=4 ")));
        Assert.Contains(lines, line => line.StartsWith("shape") && line.Contains("ours GFLOP/s") && line.Contains("ratio"));
    }

    [Fact]
    public void JsonModePrintsOnlyJsonObjects()
    {
        var output = new StringWriter();
        GemmBenchmark.Run(new GemmBenchmarkOptions { Threads = [2], Repeats = 1, Batches = [4], Json = true, WarmUpPasses = 2, WarmUpSeconds = 0, IncludeSquare = false }, output);

        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines, line => System.Text.Json.JsonDocument.Parse(line).Dispose());
        Assert.Contains(lines, line => line.Contains("\"ours_gflops\"") && line.Contains("\"threads\":2"));
    }

    [Theory]
    [InlineData(0, 3)]
    [InlineData(1, 0)]
    public void RejectsNonPositiveThreadsOrRepeats(int threads, int repeats)
    {
        var error = Assert.Throws<ArgumentException>(() =>
            GemmBenchmark.Run(new GemmBenchmarkOptions { Threads = [threads], Repeats = repeats }, TextWriter.Null));
        Assert.StartsWith("bench gemm:", error.Message);
    }
}

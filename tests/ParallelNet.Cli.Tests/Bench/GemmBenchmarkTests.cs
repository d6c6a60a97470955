using ParallelNet.Cli.Bench;

namespace ParallelNet.Cli.Tests.Bench;

public class GemmBenchmarkTests
{
    [Fact]
    public void PrintsOneRowPerShapeAndThreadCount()
    {
        var output = new StringWriter();
        int exitCode = GemmBenchmark.Run(new GemmBenchmarkOptions { Threads = [1], Repeats = 1, Batches = [4] }, output);

        Assert.Equal(0, exitCode);
        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // 8 MLP products for one batch size plus 1024^3, at one thread count.
        Assert.Equal(9, lines.Count(line => line.Contains(" B=4 ") || line.StartsWith("square 1024^3")));
        Assert.Contains(lines, line => line.StartsWith("shape") && line.Contains("ours GFLOP/s") && line.Contains("ratio"));
    }

    [Fact]
    public void JsonModePrintsOnlyJsonObjects()
    {
        var output = new StringWriter();
        GemmBenchmark.Run(new GemmBenchmarkOptions { Threads = [2], Repeats = 1, Batches = [4], Json = true }, output);

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

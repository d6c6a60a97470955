namespace ParallelNet.Cli.Tests;

/// <summary>`bench grpc` end to end: a child `bench grpc-server` process, our client, and the grpcio pair.</summary>
public sealed class RpcBenchCommandTests
{
    [Fact]
    [Trait("Category", "Slow")]
    public void Bench_grpc_measures_both_stacks_as_json_lines()
    {
        var run = CliRunner.Run(TimeSpan.FromMinutes(5), "bench", "grpc", "--sizes", "1", "--total-mib", "8", "--unary-calls", "2", "--json");
        Assert.True(run.ExitCode == 0, run.Error);
        var rows = run.JsonLines;
        Assert.Equal(["unary", "server_stream", "client_stream"], rows.Select(r => r.GetProperty("Call").GetString()));
        foreach (var row in rows)
        {
            Assert.True(row.GetProperty("ParallelNet").GetDouble() > 0, row.ToString());
            Assert.True(row.GetProperty("Grpcio").GetDouble() > 0, "grpcio figure missing: " + row);
        }
    }

    [Fact]
    public void Bench_grpc_rejects_nonsense_sizes_in_one_line()
    {
        var run = CliRunner.Run("bench", "grpc", "--sizes", "0");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--sizes", run.Error);
    }
}

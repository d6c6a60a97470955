using ParallelNet.Cli.Bench;

namespace ParallelNet.Cli.Tests.Bench;

public class ClusterTrainingBenchmarkTests
{
    [Fact]
    public void EachRoundShowsItsClustersBesideItsOwnSingleProcessAndTheMedianOfThoseRatios()
    {
        // Round 2's single process is an outlier: best round against best round would be 20,000 against 40,000
        // (0.50x), while the rounds' own ratios are 0.80x, 0.50x and 0.90x (median 0.80x).
        string[] lines = Write(["shared memory", "TCP stream"],
        [
            (20_000, [16_000, 8_000]),
            (40_000, [20_000, 12_000]),
            (10_000, [9_000, 5_000]),
        ]);

        Assert.Equal(6, lines.Length);
        Assert.Matches(@"^round\s+single\s+shared memory\s+TCP stream$", lines[1]);
        Assert.Matches(@"^1\s+20000\s+16000 \(0\.80x\)\s+8000 \(0\.40x\)$", lines[2]);
        Assert.Matches(@"^2\s+40000\s+20000 \(0\.50x\)\s+12000 \(0\.30x\)$", lines[3]);
        Assert.Matches(@"^3\s+10000\s+9000 \(0\.90x\)\s+5000 \(0\.50x\)$", lines[4]);
        Assert.Matches(@"^median ratio\s+0\.80x\s+0\.40x$", lines[5]);
    }

    [Fact]
    public void AnEvenNumberOfRoundsTakesTheMeanOfTheMiddleTwoRatios()
    {
        string[] lines = Write(["shared memory"], [(10_000, [5_000]), (10_000, [9_000]), (10_000, [6_000]), (10_000, [7_000])]);

        Assert.Matches(@"^median ratio\s+0\.65x$", lines[^1]);
    }

    private static string[] Write(IReadOnlyList<string> names, IReadOnlyList<(double Single, double[] Clusters)> rounds)
    {
        var output = new StringWriter();
        ClusterTrainingBenchmark.WriteRounds(output, names, rounds);
        return output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }
}

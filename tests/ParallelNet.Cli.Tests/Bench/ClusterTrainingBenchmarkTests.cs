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

    [Fact]
    public void TheHopSummaryCountsTheBlockStartsThatWaitedForTheirCommand()
    {
        string directory = Directory.CreateTempSubdirectory("hops-test-").FullName;
        try
        {
            long Ticks(double ms) => (long)(ms * System.Diagnostics.Stopwatch.Frequency / 1e3);
            var coordinator = new List<string>();
            var worker = new List<string>();
            for (long step = 10; step <= 13; step++)
            {
                double published = step * 10;
                coordinator.Add($"ps.published {step} {Ticks(published)}");
                // Step 11's command comes 0.3 ms after its weights; every other one long before them.
                double command = step == 11 ? published + 0.8 : published - 5;
                worker.Add($"command.decoded {step} {Ticks(command)}");
                worker.Add($"worker.weights {step} {Ticks(published + 0.5)}");
                worker.Add($"worker.block-start {step} {Ticks(Math.Max(command, published + 0.5) + 0.05)}");
                worker.Add($"worker.block-computed {step} {Ticks(published + 5)}");
            }
            File.WriteAllLines(Path.Combine(directory, HopTimeline.CoordinatorFile), coordinator);
            File.WriteAllLines(Path.Combine(directory, "4242.trace"), worker);

            var (lines, blockSeconds) = HopTimeline.Summarize(directory, 10, 12);

            Assert.Matches(@"waited for their command, not their weights: 1 of 3, 0\.30 ms after the weights", lines[^1]);
            Assert.Contains(lines, l => l.Contains("worker.block-start (worker)"));
            Assert.InRange(blockSeconds, 0.004, 0.005);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static string[] Write(IReadOnlyList<string> names, IReadOnlyList<(double Single, double[] Clusters)> rounds)
    {
        var output = new StringWriter();
        ClusterTrainingBenchmark.WriteRounds(output, names, rounds);
        return output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }
}

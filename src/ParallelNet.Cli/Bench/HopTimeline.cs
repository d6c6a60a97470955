using System.Globalization;
using ParallelNet.Actors;
using ParallelNet.Training.Actors;

namespace ParallelNet.Cli.Bench;

/// <summary>
/// The hops of a cluster step from the <see cref="HopTrace"/> files of the coordinator and its workers: for each hop,
/// its time after the parameter server published the weights the step computes with, at the first and at the last worker (or message), averaged over the measured steps.
/// </summary>
internal static class HopTimeline
{
    internal const string CoordinatorFile = "coordinator.trace";

    /// <summary>Names the training messages for the trace: weights count for the step they are used in.</summary>
    public static void DescribeTrainingMessages() => HopTrace.Describe = message => message switch
    {
        WeightsPublished w => ("weights", w.Version + 1),
        WeightsArrived w => ("weights", w.Version + 1),
        GradientsComputed g => ("gradients", g.Step),
        GradientsArrived g => ("gradients", g.Step),
        ComputeGradients c => ("command", c.Step),
        _ => null,
    };

    /// <summary>A worker process: traces when the environment asks for it.</summary>
    public static void StartWorkerFromEnvironment()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(HopTrace.EnvironmentVariable))) return;
        DescribeTrainingMessages();
        HopTrace.StartFromEnvironment();
    }

    public static void StartCoordinator(string directory)
    {
        DescribeTrainingMessages();
        HopTrace.Start(Path.Combine(directory, CoordinatorFile));
    }

    /// <summary>
    /// One line per hop, in order of their mean offset (empty when the files hold no measured step), then how many
    /// block starts waited for their command rather than their weights; and the mean time a worker spent computing a
    /// block (block start to gradients computed, without sending them; 0 when unknown).
    /// </summary>
    public static (IReadOnlyList<string> Lines, double BlockSeconds) Summarize(string directory, long firstStep, long lastStep)
    {
        var published = new Dictionary<long, long>();
        var marks = new List<(string Hop, long Step, long At)>();
        var blockTicks = new List<long>();
        var commandWaits = new List<long>(); // per block start gated by its command: how long after the weights it came
        int gatedStarts = 0;
        foreach (string path in Directory.EnumerateFiles(directory, "*.trace"))
        {
            string where = Path.GetFileName(path) == CoordinatorFile ? "coordinator" : "worker";
            var blockStarts = new Dictionary<long, long>();
            var commandsAt = new Dictionary<long, long>();
            var weightsAt = new Dictionary<long, long>();
            foreach (string line in File.ReadLines(path))
            {
                string[] parts = line.Split(' ');
                if (parts.Length != 3 || !long.TryParse(parts[1], CultureInfo.InvariantCulture, out long step)
                    || !long.TryParse(parts[2], CultureInfo.InvariantCulture, out long at) || step < firstStep || step > lastStep + 1) continue;
                if (parts[0] == "ps.published") published[step] = at;
                if (parts[0] == "command.decoded") commandsAt[step] = at;
                if (parts[0] == "worker.weights") weightsAt[step] = at;
                if (parts[0] == "worker.block-start" && step <= lastStep && commandsAt.TryGetValue(step, out long command) && weightsAt.TryGetValue(step, out long weights))
                {
                    // The later of the two let the block start: a command that came after its weights held the worker up.
                    gatedStarts++;
                    if (command > weights) commandWaits.Add(command - weights);
                }
                if (parts[0] == "worker.block-start") blockStarts[step] = at;
                if (parts[0] == "worker.block-computed" && blockStarts.Remove(step, out long started)) blockTicks.Add(at - started);
                marks.Add(($"{parts[0]} ({where})", step, at));
            }
        }
        double blockSeconds = blockTicks.Count == 0 ? 0 : blockTicks.Average() / System.Diagnostics.Stopwatch.Frequency;
        // Per hop and step: the earliest and the latest mark (one per worker, or per message to a worker).
        var perStep = new Dictionary<(string Hop, long Step), (double First, double Last)>();
        foreach (var (hop, step, at) in marks)
        {
            // A hop of step s counts from the publication of the weights s uses; the next publication closes the step.
            bool closes = hop.StartsWith("ps.published", StringComparison.Ordinal);
            long origin = closes ? step - 1 : step;
            if (origin < firstStep || origin > lastStep || !published.TryGetValue(origin, out long start)) continue;
            string name = closes ? "ps.published next (coordinator)" : hop;
            double offset = (at - start) * 1e3 / System.Diagnostics.Stopwatch.Frequency;
            perStep[(name, origin)] = perStep.TryGetValue((name, origin), out var seen) ? (Math.Min(seen.First, offset), Math.Max(seen.Last, offset)) : (offset, offset);
        }
        var lines = new List<string> { $"    {"hop",-40}{"first",10}{"last",10}{"last - previous last",24}" };
        double previous = 0;
        foreach (var hop in perStep.GroupBy(p => p.Key.Hop)
            .Select(g => (Hop: g.Key, First: g.Average(p => p.Value.First), Last: g.Average(p => p.Value.Last)))
            .OrderBy(h => h.Last))
        {
            lines.Add($"    {hop.Hop,-40}{hop.First,7:0.00} ms{hop.Last,7:0.00} ms{hop.Last - previous,18:+0.00;-0.00} ms");
            previous = hop.Last;
        }
        if (gatedStarts > 0)
            lines.Add($"    block starts that waited for their command, not their weights: {commandWaits.Count} of {gatedStarts}" +
                (commandWaits.Count == 0 ? "" : $", {commandWaits.Average() * 1e3 / System.Diagnostics.Stopwatch.Frequency:0.00} ms after the weights on average"));
        return (lines, blockSeconds);
    }
}

using System.Diagnostics;

namespace ParallelNet.Cli.Bench;

/// <summary>
/// Where a cluster step's time goes, seen from the coordinator's clock alone. A worker reports a block right
/// after sending its gradients on the same stream, so the last report of step s marks when the parameter server
/// has all of them; the step's update marks when new weights leave. Between the update of s - 1 and the last
/// report of s lie the weights' way out, that worker's compute (which it reports) and the gradients' way back.
/// </summary>
internal sealed class StepTimeline
{
    private readonly Dictionary<long, (long At, double Seconds)> _lastBlock = [];
    private long _appliedStep = -1;
    private long _appliedAt;

    public int Steps { get; private set; }

    /// <summary>Summed over the measured steps: compute of the block that finished last (the one the step waited for).</summary>
    public double ComputeSeconds { get; private set; }

    /// <summary>Summed: weights out to that worker and its gradients back, copies and queues included.</summary>
    public double TransitSeconds { get; private set; }

    /// <summary>Summed: from the last gradients to the update (combine, optimizer, publish).</summary>
    public double ServerSeconds { get; private set; }

    public void BlockReported(long step, double computeSeconds) => _lastBlock[step] = (Stopwatch.GetTimestamp(), computeSeconds);

    public void StepApplied(long step, bool measured)
    {
        long now = Stopwatch.GetTimestamp();
        if (_lastBlock.Remove(step, out var last) && measured && _appliedStep == step - 1)
        {
            Steps++;
            ComputeSeconds += last.Seconds;
            ServerSeconds += Stopwatch.GetElapsedTime(last.At, now).TotalSeconds;
            TransitSeconds += Math.Max(0, Stopwatch.GetElapsedTime(_appliedAt, last.At).TotalSeconds - last.Seconds);
        }
        foreach (long old in _lastBlock.Keys.Where(s => s <= step).ToList()) _lastBlock.Remove(old);
        _appliedStep = step;
        _appliedAt = now;
    }
}

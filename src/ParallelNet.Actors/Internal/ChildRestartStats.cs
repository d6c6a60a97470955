namespace ParallelNet.Actors.Internal;

/// <summary>A child's restart count within the current window (Akka's retry-budget rule).</summary>
internal sealed class ChildRestartStats
{
    private int restartsInWindow;
    private long windowStartTimestamp = -1;

    public bool RequestRestartPermission(int maxNrOfRetries, TimeSpan withinTimeRange, TimeProvider time)
    {
        if (maxNrOfRetries == -1) return true;
        if (withinTimeRange == Timeout.InfiniteTimeSpan)
        {
            restartsInWindow++;
            return restartsInWindow <= maxNrOfRetries;
        }

        long now = time.GetTimestamp();
        if (windowStartTimestamp < 0) windowStartTimestamp = now;
        if (time.GetElapsedTime(windowStartTimestamp, now) <= withinTimeRange)
        {
            restartsInWindow++;
            return restartsInWindow <= maxNrOfRetries;
        }

        // The old window has passed: this failure opens a new one.
        windowStartTimestamp = now;
        restartsInWindow = 1;
        return restartsInWindow <= maxNrOfRetries;
    }
}

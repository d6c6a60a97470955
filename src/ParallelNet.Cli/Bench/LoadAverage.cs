namespace ParallelNet.Cli.Bench;

/// <summary>The machine's load averages, printed beside benchmark figures: on a shared machine they say how far to trust them.</summary>
internal static class LoadAverage
{
    /// <summary>The 1, 5 and 15 minute load averages from /proc/loadavg, or "unknown" where there is none (not Linux).</summary>
    public static string Read()
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return "unknown"; }
    }
}

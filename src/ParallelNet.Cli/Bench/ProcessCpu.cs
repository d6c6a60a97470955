using System.Globalization;

namespace ParallelNet.Cli.Bench;

/// <summary>
/// CPU time (user + system, every thread) a process has used so far, from /proc/PID/stat on Linux. On a
/// machine where the processes of a run share few cores, CPU spent outside the workers' compute is
/// what slows the step, so benchmarks report it per process.
/// </summary>
internal static class ProcessCpu
{
    // USER_HZ: the unit of utime and stime. 100 on every Linux architecture .NET runs on.
    private const double TicksPerSecond = 100;

    /// <summary>Seconds of CPU <paramref name="pid"/> has used, or null when it cannot be read (not Linux, process gone).</summary>
    public static double? Seconds(int pid)
    {
        try
        {
            return Parse(File.ReadAllText($"/proc/{pid}/stat"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    /// <summary>utime + stime of a /proc/PID/stat line, in seconds.</summary>
    internal static double Parse(string stat)
    {
        // The command name (field 2) is in parentheses and may hold spaces or ')': fields resume after the last ')'.
        int end = stat.LastIndexOf(')');
        if (end < 0) throw new FormatException("A /proc stat line has no command name.");
        string[] fields = stat[(end + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
        if (fields.Length < 13) throw new FormatException($"A /proc stat line has {fields.Length + 2} fields, too few for utime and stime.");
        long user = long.Parse(fields[11], CultureInfo.InvariantCulture), system = long.Parse(fields[12], CultureInfo.InvariantCulture);
        return (user + system) / TicksPerSecond;
    }
}

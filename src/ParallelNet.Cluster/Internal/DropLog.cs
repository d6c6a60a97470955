using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace ParallelNet.Cluster.Internal;

/// <summary>
/// Warnings about dropped messages, thinned out: the 1st, 10th, 100th... occurrence of each kind is
/// logged, so a flood of bad traffic cannot flood the log too.
/// </summary>
internal sealed class DropLog(ILogger logger)
{
    private readonly ConcurrentDictionary<string, long> occurrences = new(StringComparer.Ordinal);

    public void Warn(string kind, Func<string> describe)
    {
        long count = occurrences.AddOrUpdate(kind, 1, static (_, c) => c + 1);
        if (!IsPowerOfTen(count) || !logger.IsEnabled(LogLevel.Warning)) return;
        logger.LogWarning("{Description} (occurrence {Count})", describe(), count);
    }

    private static bool IsPowerOfTen(long value)
    {
        while (value >= 10 && value % 10 == 0) value /= 10;
        return value == 1;
    }
}

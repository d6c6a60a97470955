using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace ParallelNet.Cluster.Tests.Support;

/// <summary>Keeps every log line of the nodes it is given to, so tests can check what a node said.</summary>
internal sealed class LogCollector : ILoggerFactory, ILoggerProvider
{
    private readonly ConcurrentQueue<(LogLevel Level, string Text)> lines = new();

    public IReadOnlyList<(LogLevel Level, string Text)> Lines => [.. lines];

    public bool Contains(string fragment, LogLevel atLeast = LogLevel.Trace) =>
        lines.Any(l => l.Level >= atLeast && l.Text.Contains(fragment, StringComparison.Ordinal));

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void AddProvider(ILoggerProvider provider) { }

    public void Dispose() { }

    private sealed class Logger(LogCollector owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.lines.Enqueue((logLevel, formatter(state, exception)));
    }
}

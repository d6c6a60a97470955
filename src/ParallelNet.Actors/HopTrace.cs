using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace ParallelNet.Actors;

/// <summary>
/// Benchmark-only timestamps along the way of a message (enqueued, written, read, decoded, handled), so that the
/// latency of a chain that crosses threads and processes can be cut into its hops. Off unless started (in process,
/// or through the PARALLELNET_HOP_TRACE environment variable naming a directory); then each process appends lines
/// "hop step timestamp" to its own file. Timestamps are <see cref="Stopwatch.GetTimestamp"/>, the monotonic clock
/// that processes on one Linux machine share, so files of several processes line up.
/// </summary>
public static class HopTrace
{
    /// <summary>The environment variable that turns tracing on at process start: the directory the trace files go to.</summary>
    public const string EnvironmentVariable = "PARALLELNET_HOP_TRACE";

    private const int FlushEvery = 64;
    private static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(100);

    private static readonly Lock Gate = new();
    private static readonly List<(string Hop, long Step, long At)> Pending = [];
    private static volatile bool enabled;
    private static StreamWriter? file;
    private static Timer? flusher;

    /// <summary>True while tracing: callers skip the work of describing a hop otherwise.</summary>
    public static bool Enabled => enabled;

    /// <summary>
    /// What a message is for the trace: a kind ("weights", "gradients") and the training step it belongs to, or null for
    /// messages not traced. Set by the process that knows the message types (the command line).
    /// </summary>
    public static Func<object, (string Kind, long Step)?>? Describe { get; set; }

    /// <summary>Starts tracing into <paramref name="path"/> (appended to); a trace already running is flushed and replaced.</summary>
    public static void Start(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        lock (Gate)
        {
            StopLocked();
            file = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite), Encoding.ASCII);
            // A process that goes quiet (a worker after its job) still gets its last marks into the file.
            flusher = new Timer(static _ => Flush(), null, FlushInterval, FlushInterval);
            enabled = true;
        }
    }

    /// <summary>Starts tracing when <see cref="EnvironmentVariable"/> names a directory: into its file "&lt;pid&gt;.trace".</summary>
    public static void StartFromEnvironment()
    {
        string? directory = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrEmpty(directory) || !Directory.Exists(directory)) return;
        Start(Path.Combine(directory, $"{Environment.ProcessId}.trace"));
    }

    public static void Stop()
    {
        lock (Gate) StopLocked();
    }

    /// <summary>Records that <paramref name="hop"/> of <paramref name="step"/> happens now.</summary>
    public static void Mark(string hop, long step) => Mark(hop, step, Stopwatch.GetTimestamp());

    /// <summary>Records that <paramref name="hop"/> of <paramref name="step"/> happened at <paramref name="timestamp"/>.</summary>
    public static void Mark(string hop, long step, long timestamp)
    {
        if (!enabled) return;
        lock (Gate)
        {
            if (file is null) return;
            Pending.Add((hop, step, timestamp));
            // Worker processes end by being killed: what a step recorded reaches the file soon after.
            if (Pending.Count >= FlushEvery) FlushLocked();
        }
    }

    /// <summary>Records a hop of <paramref name="message"/> when <see cref="Describe"/> traces its kind: "kind.hop".</summary>
    public static void MarkMessage(object message, string hop, long timestamp)
    {
        if (!enabled || Describe?.Invoke(message) is not { } described) return;
        Mark($"{described.Kind}.{hop}", described.Step, timestamp);
    }

    public static void Flush()
    {
        lock (Gate) FlushLocked();
    }

    private static void FlushLocked()
    {
        if (file is null) return;
        foreach (var (hop, step, at) in Pending)
            file.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{hop} {step} {at}"));
        Pending.Clear();
        file.Flush();
    }

    private static void StopLocked()
    {
        enabled = false;
        flusher?.Dispose();
        flusher = null;
        FlushLocked();
        file?.Dispose();
        file = null;
    }
}

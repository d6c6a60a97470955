namespace ParallelNet.Actors.Internal;

/// <summary>A timer's message on its way to the actor, stamped with the generation that sent it.</summary>
internal sealed record TimerMessage(object Key, int Generation, object Message, IActorRef Owner);

/// <summary>
/// Timers on the system's TimeProvider that Tell the owner a <see cref="TimerMessage"/>. A message
/// counts only if its key still holds the same generation when it is processed, which is how a
/// cancelled or replaced timer stays silent even with a message already in the mailbox.
/// </summary>
internal sealed class TimerScheduler(IActorRef owner, TimeProvider time) : ITimerScheduler
{
    private readonly Dictionary<object, (TimerMessage Message, ITimer Timer, bool Periodic)> timers = [];
    private int generation;

    public void StartSingleTimer(object key, object message, TimeSpan delay)
    {
        if (delay < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(delay), delay, $"Timer {key} on [{owner.Path}] needs a delay of zero or more.");
        Start(key, message, delay, Timeout.InfiniteTimeSpan);
    }

    public void StartPeriodicTimer(object key, object message, TimeSpan interval) => StartPeriodicTimer(key, message, interval, interval);

    public void StartPeriodicTimer(object key, object message, TimeSpan initialDelay, TimeSpan interval)
    {
        if (initialDelay < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(initialDelay), initialDelay, $"Timer {key} on [{owner.Path}] needs an initial delay of zero or more.");
        if (interval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(interval), interval, $"Periodic timer {key} on [{owner.Path}] needs a positive interval.");
        Start(key, message, initialDelay, interval);
    }

    private void Start(object key, object message, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(message);
        Cancel(key);
        var timerMessage = new TimerMessage(key, ++generation, message, owner);
        ITimer timer = time.CreateTimer(static state =>
        {
            var tick = (TimerMessage)state!;
            tick.Owner.Tell(tick, tick.Owner);
        }, timerMessage, dueTime, period);
        timers[key] = (timerMessage, timer, period != Timeout.InfiniteTimeSpan);
    }

    public bool IsTimerActive(object key) => timers.ContainsKey(key);

    public void Cancel(object key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (timers.Remove(key, out var entry)) entry.Timer.Dispose();
    }

    public void CancelAll()
    {
        foreach (var entry in timers.Values) entry.Timer.Dispose();
        timers.Clear();
    }

    /// <summary>True if <paramref name="message"/> is from the live generation of its key; a single timer is then done.</summary>
    public bool TryAccept(TimerMessage message)
    {
        if (!timers.TryGetValue(message.Key, out var entry) || entry.Message.Generation != message.Generation) return false;
        if (!entry.Periodic)
        {
            timers.Remove(message.Key);
            entry.Timer.Dispose();
        }
        return true;
    }
}

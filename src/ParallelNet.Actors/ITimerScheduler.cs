namespace ParallelNet.Actors;

/// <summary>
/// Per-actor timers keyed by any object. Starting a timer under a key that is in use replaces it, and
/// a cancelled or replaced timer never delivers, even if its message was already queued. Call only
/// from the actor's own handlers.
/// </summary>
public interface ITimerScheduler
{
    void StartSingleTimer(object key, object message, TimeSpan delay);
    void StartPeriodicTimer(object key, object message, TimeSpan interval);
    void StartPeriodicTimer(object key, object message, TimeSpan initialDelay, TimeSpan interval);
    bool IsTimerActive(object key);
    void Cancel(object key);
    void CancelAll();
}

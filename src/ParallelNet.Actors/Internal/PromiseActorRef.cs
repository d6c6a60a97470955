namespace ParallelNet.Actors.Internal;

/// <summary>The temporary reply address of one Ask: the first reply completes the task; the timer or the token faults or cancels it.</summary>
internal sealed class PromiseActorRef<T> : IActorRef
{
    private readonly TaskCompletionSource<T> completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly IActorRef target;
    private readonly ITimer? timeoutTimer;
    private readonly CancellationTokenRegistration cancellation;

    public PromiseActorRef(IActorRef target, object message, TimeSpan timeout, CancellationToken cancellationToken)
    {
        this.target = target;
        System = target.System;
        Path = System.NewTemporaryPath();
        System.RegisterTemporary(this); // a reply from another node finds this promise by its path
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            Type question = message.GetType();
            timeoutTimer = System.TimeProvider.CreateTimer(
                _ => Complete(() => completion.TrySetException(TimedOut(target, timeout, question))), null, timeout, Timeout.InfiniteTimeSpan);
        }
        if (cancellationToken.CanBeCanceled)
            cancellation = cancellationToken.Register(() => Complete(() => completion.TrySetCanceled(cancellationToken)));
    }

    public Task<T> Task => completion.Task;
    public ActorPath Path { get; }
    public ActorSystem System { get; }

    public void Tell(object message, IActorRef? sender)
    {
        ArgumentNullException.ThrowIfNull(message);
        bool accepted = Complete(() => message switch
        {
            T reply => completion.TrySetResult(reply),
            Status.Failure failure => completion.TrySetException(failure.Cause),
            _ => completion.TrySetException(new InvalidCastException(
                $"Ask to [{target.Path}] expected a reply of type {typeof(T).Name} but got {message.GetType().Name}: {message}.")),
        });
        if (!accepted) System.PublishDeadLetter(message, sender, this); // a second reply, or one after the timeout
    }

    public void SendSystemMessage(SystemMessage message)
    {
        if (message is Watch watch && completion.Task.IsCompleted)
            watch.Watcher.SendSystemMessage(new DeathWatchNotification(this));
    }

    private static AskTimeoutException TimedOut(IActorRef target, TimeSpan timeout, Type question) => new(
        $"Ask to [{target.Path}] timed out after {timeout} waiting for a {typeof(T).Name} reply to {question.Name}. " +
        "The target may be dead, busy, or may not reply to this message; check it handles the message and calls Sender.Tell, or raise the timeout.");

    /// <summary>Releases the timer and the token registration before the asker can resume, then completes.</summary>
    private bool Complete(Func<bool> setOutcome)
    {
        if (completion.Task.IsCompleted) return false;
        System.UnregisterTemporary(this);
        timeoutTimer?.Dispose();
        cancellation.Unregister(); // unlike Dispose, never waits for a callback that may be this very call
        return setOutcome();
    }
}

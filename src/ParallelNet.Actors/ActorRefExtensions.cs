using ParallelNet.Actors.Internal;

namespace ParallelNet.Actors;

public static class ActorRefExtensions
{
    /// <summary>Tell without a sender: any reply goes to dead letters.</summary>
    public static void Tell(this IActorRef target, object message)
    {
        ArgumentNullException.ThrowIfNull(target);
        target.Tell(message, ActorRefs.NoSender);
    }

    /// <summary>
    /// True for a reference to an actor of this process's actor systems: a message told to it is handed over by
    /// reference, never serialized, so a buffer it carries is shared with the receiver (remote references, temporary
    /// ask addresses and dead letters: false).
    /// </summary>
    public static bool IsInProcess(this IActorRef actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        return actor is LocalActorRef;
    }

    /// <summary>Passes a message on, keeping the original sender so the reply skips this actor.</summary>
    public static void Forward(this IActorRef target, object message, IActorContext context)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(context);
        target.Tell(message, context.Sender);
    }

    /// <summary>
    /// Sends <paramref name="message"/> with a temporary reply address and completes with the first
    /// reply of type <typeparamref name="T"/>. A <see cref="Status.Failure"/> reply faults the task
    /// with its cause; no reply within <paramref name="timeout"/> (measured on the system's
    /// TimeProvider) faults it with <see cref="AskTimeoutException"/>.
    /// </summary>
    public static Task<T> Ask<T>(this IActorRef target, object message, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(message);
        if (timeout <= TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout,
                $"Ask to [{target.Path}] needs a positive timeout; pass Timeout.InfiniteTimeSpan to wait forever.");
        var promise = new PromiseActorRef<T>(target, message, timeout, cancellationToken);
        target.Tell(message, promise);
        return promise.Task;
    }

    /// <summary>
    /// Sends <paramref name="stopMessage"/> (default <see cref="PoisonPill"/>, so the messages already
    /// queued are processed first) and completes with true once the actor has terminated, or false if
    /// it has not within <paramref name="timeout"/>.
    /// </summary>
    public static Task<bool> GracefulStop(this IActorRef target, TimeSpan timeout, object? stopMessage = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (timeout <= TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout,
                $"GracefulStop of [{target.Path}] needs a positive timeout; pass Timeout.InfiniteTimeSpan to wait forever.");
        var watcher = new GracefulStopWatcher(target, timeout);
        target.SendSystemMessage(new Watch(target, watcher));
        target.Tell(stopMessage ?? PoisonPill.Instance, ActorRefs.NoSender);
        return watcher.Task;
    }
}

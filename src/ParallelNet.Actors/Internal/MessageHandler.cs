namespace ParallelNet.Actors.Internal;

/// <summary>One registered Receive: a type test, an optional predicate and the handler, without per-message allocation.</summary>
internal abstract class MessageHandler
{
    /// <summary>True when this handler took the message; <paramref name="pending"/> is the handler's task if it is asynchronous.</summary>
    public abstract bool TryHandle(object message, out Task? pending);
}

internal sealed class SyncHandler<T>(Action<T> handler, Predicate<T>? shouldHandle) : MessageHandler
{
    public override bool TryHandle(object message, out Task? pending)
    {
        pending = null;
        if (message is not T typed || (shouldHandle is not null && !shouldHandle(typed))) return false;
        handler(typed);
        return true;
    }
}

internal sealed class AsyncHandler<T>(Func<T, Task> handler, Predicate<T>? shouldHandle) : MessageHandler
{
    public override bool TryHandle(object message, out Task? pending)
    {
        pending = null;
        if (message is not T typed || (shouldHandle is not null && !shouldHandle(typed))) return false;
        pending = handler(typed) ?? throw new InvalidOperationException(
            $"A ReceiveAsync<{typeof(T).Name}> handler returned a null Task; return Task.CompletedTask when there is nothing to await.");
        return true;
    }
}

using ParallelNet.Actors.Internal;

namespace ParallelNet.Actors;

/// <summary>
/// An actor whose behavior is a list of typed handlers, registered in the constructor (or inside
/// <see cref="Become"/>) and tried in order: the first whose type and predicate match handles the
/// message; if none does, <see cref="ActorBase.Unhandled"/> runs.
/// </summary>
public abstract class ReceiveActor : ActorBase
{
    // The stack's top is the current behavior; Become replaces it, BecomeStacked pushes onto it.
    private readonly List<List<MessageHandler>> behaviors = [[]];
    private List<MessageHandler>? registering;
    private bool constructing = true;

    protected ReceiveActor()
    {
        registering = behaviors[0];
    }

    protected void Receive<T>(Action<T> handler, Predicate<T>? shouldHandle = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        Register(new SyncHandler<T>(handler, shouldHandle));
    }

    /// <summary>An asynchronous handler: no other message (system messages included) is processed until its task completes.</summary>
    protected void ReceiveAsync<T>(Func<T, Task> handler, Predicate<T>? shouldHandle = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        Register(new AsyncHandler<T>(handler, shouldHandle));
    }

    protected void ReceiveAny(Action<object> handler) => Receive(handler);

    protected void ReceiveAnyAsync(Func<object, Task> handler) => ReceiveAsync(handler);

    /// <summary>Replaces the current behavior by the handlers <paramref name="configure"/> registers, from the next message on.</summary>
    protected void Become(Action configure)
    {
        List<MessageHandler> next = Configure(configure);
        behaviors[^1] = next;
    }

    /// <summary>Like <see cref="Become"/>, but keeps the current behavior for <see cref="UnbecomeStacked"/>.</summary>
    protected void BecomeStacked(Action configure)
    {
        List<MessageHandler> next = Configure(configure);
        behaviors.Add(next);
    }

    /// <summary>Returns to the behavior before the last <see cref="BecomeStacked"/>; the initial behavior is never popped.</summary>
    protected void UnbecomeStacked()
    {
        if (behaviors.Count > 1) behaviors.RemoveAt(behaviors.Count - 1);
    }

    private List<MessageHandler> Configure(Action configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        if (registering is not null && !constructing)
            throw new InvalidOperationException($"{GetType().Name}: Become cannot run inside another Become's configure action.");
        var handlers = new List<MessageHandler>();
        registering = handlers;
        try
        {
            configure();
        }
        finally
        {
            // In the constructor, later Receive calls extend the behavior just chosen.
            registering = constructing ? handlers : null;
        }
        return handlers;
    }

    private void Register(MessageHandler handler)
    {
        if (registering is null)
            throw new InvalidOperationException(
                $"{GetType().Name}: Receive handlers can only be registered in the constructor or inside Become(...). " +
                "To change behavior while running, call Become(() => { Receive<...>(...); }).");
        registering.Add(handler);
    }

    internal override void OnConstructed()
    {
        constructing = false;
        registering = null;
    }

    internal override Task? Dispatch(object message)
    {
        List<MessageHandler> current = behaviors[^1];
        for (int i = 0; i < current.Count; i++)
        {
            if (current[i].TryHandle(message, out Task? pending)) return pending;
        }
        InvokeUnhandled(message);
        return null;
    }
}

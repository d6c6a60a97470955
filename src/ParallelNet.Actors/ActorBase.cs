using ParallelNet.Actors.Internal;

namespace ParallelNet.Actors;

/// <summary>
/// The base of every actor: lifecycle hooks, <see cref="Self"/>, <see cref="Sender"/> and
/// <see cref="Context"/>. Derive from <see cref="ReceiveActor"/>.
/// </summary>
public abstract class ActorBase
{
    private ActorCell? cell;

    private protected ActorBase() { }

    protected IActorContext Context => cell ?? throw new InvalidOperationException(
        $"{GetType().Name}: Context, Self, Sender and Timers are not available in the constructor. " +
        "Register handlers there and move other start-up work (children, timers, watches) to PreStart.");

    protected IActorRef Self => Context.Self;
    protected IActorRef Sender => Context.Sender;
    protected ITimerScheduler Timers => Context.Timers;

    /// <summary>Runs before the first message (and, through <see cref="PostRestart"/>, after each restart).</summary>
    protected virtual void PreStart() { }

    /// <summary>Runs once the actor has stopped and all its children have stopped.</summary>
    protected virtual void PostStop() { }

    /// <summary>Runs on the failed instance before it is replaced. By default stops all children and calls <see cref="PostStop"/>.</summary>
    protected virtual void PreRestart(Exception reason, object? message)
    {
        foreach (IActorRef child in Context.GetChildren())
        {
            Context.Unwatch(child);
            Context.Stop(child);
        }
        PostStop();
    }

    /// <summary>Runs on the new instance after a restart. By default calls <see cref="PreStart"/>.</summary>
    protected virtual void PostRestart(Exception reason) => PreStart();

    /// <summary>How this actor supervises its children; called at each child failure.</summary>
    protected virtual SupervisorStrategy SupervisorStrategy() => ParallelNet.Actors.SupervisorStrategy.DefaultStrategy;

    /// <summary>
    /// Called for a message no handler took: an unhandled <see cref="Terminated"/> breaks the death
    /// pact (the actor fails), anything else is published as <see cref="UnhandledMessage"/>.
    /// </summary>
    protected virtual void Unhandled(object message)
    {
        if (message is Terminated terminated) throw new DeathPactException(terminated.ActorRef);
        Context.System.EventStream.Publish(new UnhandledMessage(message, Sender, Self));
    }

    /// <summary>Runs the handler for <paramref name="message"/>; a non-null task keeps the mailbox blocked until it completes.</summary>
    internal abstract Task? Dispatch(object message);

    /// <summary>Called once the constructor has returned: from now on handlers may only change through Become.</summary>
    internal virtual void OnConstructed() { }

    internal void AttachTo(ActorCell owner) => cell = owner;
    internal void InvokePreStart() => PreStart();
    internal void InvokePostStop() => PostStop();
    internal void InvokePreRestart(Exception reason, object? message) => PreRestart(reason, message);
    internal void InvokePostRestart(Exception reason) => PostRestart(reason);
    internal SupervisorStrategy InvokeSupervisorStrategy() => SupervisorStrategy();
    internal void InvokeUnhandled(object message) => Unhandled(message);
}

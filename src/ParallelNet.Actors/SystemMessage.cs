namespace ParallelNet.Actors;

/// <summary>
/// Messages of the kernel itself. They travel through <see cref="IActorRef.SendSystemMessage"/>,
/// overtake user messages, and are never seen by actor code. Those that may cross the wire are public.
/// </summary>
public abstract record SystemMessage
{
    private protected SystemMessage() { }
}

/// <summary>Asks <see cref="Watchee"/> to send <see cref="DeathWatchNotification"/> to <see cref="Watcher"/> when it stops (at once if it already has).</summary>
public sealed record Watch(IActorRef Watchee, IActorRef Watcher) : SystemMessage;

public sealed record Unwatch(IActorRef Watchee, IActorRef Watcher) : SystemMessage;

/// <summary>Tells a watcher that <see cref="Actor"/> has stopped; the watcher's actor then receives <see cref="Terminated"/>.</summary>
public sealed record DeathWatchNotification(IActorRef Actor) : SystemMessage;

/// <summary>Stops the receiver after its current message: its children first, then itself.</summary>
public sealed record Terminate : SystemMessage
{
    public static Terminate Instance { get; } = new();
}

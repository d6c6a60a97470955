namespace ParallelNet.Actors;

/// <summary>
/// A handle to an actor, and the only way to talk to one. Local and remote references implement it
/// alike, so code holding an <see cref="IActorRef"/> never needs to know where the actor runs.
/// </summary>
public interface IActorRef
{
    /// <summary>Where the actor lives, e.g. <c>pn://trainer/user/coordinator</c>.</summary>
    ActorPath Path { get; }

    /// <summary>The local actor system through which this reference is reached (clock, dead letters, event stream).</summary>
    ActorSystem System { get; }

    /// <summary>
    /// Enqueues <paramref name="message"/> and returns at once. Never blocks and never throws for a
    /// dead target: the message becomes a <see cref="DeadLetter"/>. Pass the replying actor as
    /// <paramref name="sender"/> (usually <c>Self</c>), or <see cref="ActorRefs.NoSender"/>.
    /// </summary>
    void Tell(object message, IActorRef? sender);

    /// <summary>
    /// The kernel's own channel for watch, unwatch, stop and death notices; these overtake user
    /// messages. Application code calls <c>Context.Watch</c> / <c>Context.Stop</c> instead; a remote
    /// reference forwards these messages over the wire.
    /// </summary>
    void SendSystemMessage(SystemMessage message);
}

public static class ActorRefs
{
    /// <summary>The sender to pass when there is no actor to reply to; replies go to dead letters.</summary>
    public static readonly IActorRef? NoSender = null;
}

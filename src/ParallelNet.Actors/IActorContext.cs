namespace ParallelNet.Actors;

/// <summary>
/// The actor's view of the kernel while it processes a message (and in its lifecycle hooks). Use
/// it only from the actor's own handlers: it is not thread-safe.
/// </summary>
public interface IActorContext
{
    IActorRef Self { get; }

    /// <summary>Who sent the current message; dead letters when it was sent without a sender.</summary>
    IActorRef Sender { get; }

    /// <summary>The supervisor of this actor.</summary>
    IActorRef Parent { get; }

    Props Props { get; }

    ActorSystem System { get; }

    /// <summary>Timers that send messages to Self on the system's TimeProvider; all cancelled on stop and restart.</summary>
    ITimerScheduler Timers { get; }

    /// <summary>Creates and starts a child supervised by this actor. <paramref name="name"/> must be unique among the live children.</summary>
    IActorRef ActorOf(Props props, string? name = null);

    IReadOnlyList<IActorRef> GetChildren();

    /// <summary>The live child called <paramref name="name"/>, or the system's Nobody.</summary>
    IActorRef Child(string name);

    /// <summary>Stops <paramref name="actor"/> after its current message (Self included); the rest of its mailbox becomes dead letters.</summary>
    void Stop(IActorRef actor);

    /// <summary>Asks for one <see cref="Terminated"/> message when <paramref name="subject"/> stops, even if it already has.</summary>
    IActorRef Watch(IActorRef subject);

    /// <summary>Cancels a watch; a <see cref="Terminated"/> already queued for <paramref name="subject"/> is dropped.</summary>
    IActorRef Unwatch(IActorRef subject);
}

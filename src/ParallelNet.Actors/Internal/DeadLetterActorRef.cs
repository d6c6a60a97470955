namespace ParallelNet.Actors.Internal;

/// <summary>The system's dead-letter office (and Nobody): every message sent here is published as a <see cref="DeadLetter"/>.</summary>
internal sealed class DeadLetterActorRef(ActorSystem system, ActorPath path) : IActorRef
{
    public ActorPath Path { get; } = path;
    public ActorSystem System { get; } = system;

    public void Tell(object message, IActorRef? sender)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message is DeadLetter) return; // forwarding a dead letter to dead letters would only repeat it
        System.PublishDeadLetter(message, sender, this);
    }

    public void SendSystemMessage(SystemMessage message)
    {
        // Nothing lives here, so a watcher learns at once that there is nothing to wait for.
        if (message is Watch watch && !ReferenceEquals(watch.Watcher, this))
            watch.Watcher.SendSystemMessage(new DeathWatchNotification(this));
    }

    public override string ToString() => $"[{Path}]";
}

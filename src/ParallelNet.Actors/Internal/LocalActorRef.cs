namespace ParallelNet.Actors.Internal;

/// <summary>The reference to an actor of this process: one instance per actor incarnation, so reference equality identifies it.</summary>
internal sealed class LocalActorRef(ActorCell cell, ActorPath path) : IActorRef
{
    public ActorPath Path { get; } = path;
    public ActorSystem System => cell.System;

    public void Tell(object message, IActorRef? sender)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!cell.Mailbox.Post(new Envelope(message, sender)))
            cell.System.PublishDeadLetter(message, sender, this);
    }

    public void SendSystemMessage(SystemMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!cell.Mailbox.PostSystem(message)) cell.HandleSystemMessageAfterDeath(message);
    }

    public override string ToString() => $"[{Path}]";
}

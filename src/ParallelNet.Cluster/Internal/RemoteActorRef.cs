using ParallelNet.Actors;

namespace ParallelNet.Cluster.Internal;

/// <summary>
/// A reference to an actor on another node: Tell and the public system messages (Watch, Unwatch,
/// DeathWatchNotification, Terminate) travel over the cluster stream to that node. Equal to every other
/// reference with the same path, so watches made through one copy match notices arriving for another.
/// </summary>
internal sealed class RemoteActorRef(ClusterNode node, ActorPath path) : IActorRef, IEquatable<RemoteActorRef>
{
    public ActorPath Path { get; } = path;

    public ActorSystem System => node.System;

    public void Tell(object message, IActorRef? sender)
    {
        ArgumentNullException.ThrowIfNull(message);
        node.SendMessage(this, message, sender);
    }

    public void SendSystemMessage(SystemMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        node.SendSystemMessage(this, message);
    }

    public bool Equals(RemoteActorRef? other) => other is not null && Path.Equals(other.Path);

    public override bool Equals(object? obj) => obj is RemoteActorRef other && Equals(other);

    public override int GetHashCode() => Path.GetHashCode();

    public override string ToString() => $"[{Path}]";
}

using ParallelNet.Actors;

namespace ParallelNet.Cluster;

/// <summary>
/// Another node of the cluster as this node sees it: its address (<c>pn.tcp://system@host:port</c>),
/// its incarnation (a restarted node at the same address is a new member) and its roles.
/// Two members are equal when address and incarnation are.
/// </summary>
public sealed record Member(Address Address, ulong Uid, IReadOnlyList<string> Roles)
{
    public bool HasRole(string role) => Roles.Contains(role, StringComparer.Ordinal);

    public bool Equals(Member? other) => other is not null && Address.Equals(other.Address) && Uid == other.Uid;

    public override int GetHashCode() => HashCode.Combine(Address, Uid);

    public override string ToString() => $"{Address}#{Uid:x16}" + (Roles.Count == 0 ? "" : $" [{string.Join(',', Roles)}]");
}

/// <summary>A change of membership, published on the node's <see cref="ActorSystem.EventStream"/>; see <see cref="ClusterNode.Subscribe"/>.</summary>
public abstract record MemberEvent(Member Member);

/// <summary>A node joined (handshake done): actors on it can be reached.</summary>
public sealed record MemberUp(Member Member) : MemberEvent(Member);

/// <summary>Nothing heard from the member for <see cref="ClusterNodeOptions.UnreachableAfter"/>; messages to it are still queued.</summary>
public sealed record MemberUnreachable(Member Member) : MemberEvent(Member);

/// <summary>An unreachable member was heard from again before it was removed.</summary>
public sealed record MemberReachable(Member Member) : MemberEvent(Member);

/// <summary>
/// The member left, or was silent for <see cref="ClusterNodeOptions.RemovedAfter"/>: watchers of its actors
/// got Terminated, its queued messages were dropped, and this incarnation is refused from now on.
/// </summary>
public sealed record MemberRemoved(Member Member, string Reason) : MemberEvent(Member);

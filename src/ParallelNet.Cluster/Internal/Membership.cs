using ParallelNet.Actors;

namespace ParallelNet.Cluster.Internal;

/// <summary>
/// The members this node knows and the failure detector over them: each member's last sign of life,
/// unreachable after a silence of UnreachableAfter, removed after RemovedAfter. Removed incarnations
/// are remembered so they are never let back in (the node must restart, which gives a new one).
/// Not thread-safe: the node calls it under its membership lock and publishes the events it returns.
/// </summary>
internal sealed class Membership(TimeProvider clock, TimeSpan unreachableAfter, TimeSpan removedAfter)
{
    private readonly Dictionary<Address, Entry> members = [];
    private readonly HashSet<ulong> removedUids = [];
    private readonly HashSet<Address> goneAddresses = [];

    public IReadOnlyList<Member> Members => [.. members.Values.Select(e => e.Member)];

    public IReadOnlyList<Member> Unreachable => [.. members.Values.Where(e => e.Unreachable).Select(e => e.Member)];

    public bool WasRemoved(ulong uid) => removedUids.Contains(uid);

    /// <summary>True when the last member at <paramref name="address"/> was removed and none has joined there since.</summary>
    public bool IsGone(Address address) => goneAddresses.Contains(address);

    public Member? Find(Address address) => members.TryGetValue(address, out Entry? entry) ? entry.Member : null;

    /// <summary>A handshake with <paramref name="member"/> succeeded. A new incarnation at a known address replaces the old one.</summary>
    public void Join(Member member, List<MemberEvent> events)
    {
        if (members.TryGetValue(member.Address, out Entry? known))
        {
            if (known.Member.Uid == member.Uid)
            {
                Heard(member.Address, member.Uid, events);
                return;
            }
            Remove(known.Member, "it restarted (a new incarnation joined at its address)", events);
        }
        members[member.Address] = new Entry(member, clock.GetTimestamp());
        goneAddresses.Remove(member.Address);
        events.Add(new MemberUp(member));
    }

    /// <summary>Any frame from the member is a sign of life.</summary>
    public void Heard(Address address, ulong uid, List<MemberEvent> events)
    {
        if (!members.TryGetValue(address, out Entry? entry) || entry.Member.Uid != uid) return;
        entry.LastHeard = clock.GetTimestamp();
        if (!entry.Unreachable) return;
        entry.Unreachable = false;
        events.Add(new MemberReachable(entry.Member));
    }

    /// <summary>Runs the failure detector once.</summary>
    public void Check(List<MemberEvent> events)
    {
        long now = clock.GetTimestamp();
        foreach (Entry entry in members.Values.ToList())
        {
            TimeSpan silence = clock.GetElapsedTime(entry.LastHeard, now);
            if (silence >= removedAfter)
                Remove(entry.Member, $"nothing was heard from it for {silence.TotalSeconds:0.#} s", events);
            else if (silence >= unreachableAfter && !entry.Unreachable)
            {
                entry.Unreachable = true;
                events.Add(new MemberUnreachable(entry.Member));
            }
        }
    }

    public void Remove(Member member, string reason, List<MemberEvent> events)
    {
        removedUids.Add(member.Uid);
        if (!members.TryGetValue(member.Address, out Entry? entry) || entry.Member.Uid != member.Uid) return;
        members.Remove(member.Address);
        goneAddresses.Add(member.Address);
        events.Add(new MemberRemoved(member, reason));
    }

    private sealed class Entry(Member member, long lastHeard)
    {
        public Member Member { get; } = member;
        public long LastHeard { get; set; } = lastHeard;
        public bool Unreachable { get; set; }
    }
}

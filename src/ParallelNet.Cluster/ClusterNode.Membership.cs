using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using ParallelNet.Actors;
using ParallelNet.Cluster.Internal;
using ParallelNet.Cluster.Protocol;

namespace ParallelNet.Cluster;

// Heartbeats, the failure detector, seeds, and what happens when a member goes.
public sealed partial class ClusterNode
{
    private readonly ConcurrentDictionary<Endpoint, Address> seedAddresses = new();
    private readonly ConcurrentDictionary<Endpoint, byte> selfEndpoints = new();

    /// <summary>Every heartbeat interval: detect failures, send heartbeats, redial members and seeds that have no stream.</summary>
    private void Tick()
    {
        if (stopping.IsCancellationRequested || Interlocked.Exchange(ref ticking, 1) != 0) return;
        try
        {
            var events = new List<MemberEvent>();
            IReadOnlyList<Member> members;
            lock (membershipGate)
            {
                membership.Check(events);
                Publish(events);
                members = membership.Members;
            }
            HandleRemovals(events);

            var heartbeat = new ClusterFrame { Heartbeat = new Heartbeat() };
            heartbeat.Heartbeat.Members.AddRange(members.Select(m => m.Address.ToString()));
            foreach (Member member in members)
            {
                Association association = AssociationFor(member.Address);
                if (association.HasLink) association.TryEnqueue(OutboundMessage.ForFrame(heartbeat), "a heartbeat");
                else NeedsLink(association);
            }
            foreach (Association association in associations.Values)
            {
                if (association.WantsLink && !association.HasLink) NeedsLink(association);
            }
            foreach (Endpoint seed in seeds)
            {
                bool joined;
                lock (membershipGate)
                    joined = (seedAddresses.TryGetValue(seed, out Address? known) && membership.Find(known) is not null)
                        || members.Any(m => Endpoint.Of(m.Address) == seed);
                if (!joined) Dial(seed);
            }
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "The cluster heartbeat of {Address} failed; it runs again next interval.", SelfAddress);
        }
        finally
        {
            Volatile.Write(ref ticking, 0);
        }
    }

    private void Heard(Member member)
    {
        List<MemberEvent>? events = null;
        lock (membershipGate)
        {
            events = [];
            membership.Heard(member.Address, member.Uid, events);
            Publish(events);
        }
    }

    private void RemoveMember(Member member, string reason)
    {
        var events = new List<MemberEvent>();
        lock (membershipGate)
        {
            membership.Remove(member, reason, events);
            Publish(events);
        }
        HandleRemovals(events);
    }

    private bool IsRemovedAddress(Address address)
    {
        lock (membershipGate) return membership.IsGone(address);
    }

    /// <summary>Called under the membership lock, so subscribers see events in order and never miss one between snapshot and subscription.</summary>
    private void Publish(List<MemberEvent> events)
    {
        foreach (MemberEvent e in events)
        {
            switch (e)
            {
                case MemberRemoved removed:
                    logger.LogWarning("Member {Member} removed: {Reason}.", removed.Member, removed.Reason);
                    break;
                case MemberUnreachable:
                    logger.LogWarning("Member {Member} is unreachable: nothing heard for {Silence}.", e.Member, options.UnreachableAfter);
                    break;
                default:
                    logger.LogInformation("Member {Member}: {Event}.", e.Member, e.GetType().Name);
                    break;
            }
            System.EventStream.Publish(e);
        }
    }

    /// <summary>A removed member's streams close, its queue is dropped, and watchers of its actors get Terminated.</summary>
    private void HandleRemovals(List<MemberEvent> events)
    {
        foreach (MemberEvent e in events)
        {
            if (e is not MemberRemoved { Member: var member }) continue;
            foreach (Link link in links.Keys)
            {
                if (link.Remote.Equals(member)) link.Close();
            }
            if (associations.TryRemove(member.Address, out Association? association)) _ = association.DisposeAsync().AsTask();
            NotifyWatchersOfRemovedNode(member.Address);
        }
    }

    private void NotifyWatchersOfRemovedNode(Address node)
    {
        foreach ((IActorRef watchee, IActorRef watcher) in remoteWatches.TakeAll(node))
            watcher.SendSystemMessage(new DeathWatchNotification(watchee));
    }

    /// <summary>Tells every connected member that this node leaves, waiting briefly for the notices to be written.</summary>
    private async Task LeaveAsync()
    {
        var written = new List<Task>();
        foreach (Association association in associations.Values)
        {
            if (!association.HasLink) continue;
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (association.TryEnqueue(OutboundMessage.ForFrame(new ClusterFrame { Leaving = new Leaving() }, done), "the leaving notice")) written.Add(done.Task);
        }
        try
        {
            await Task.WhenAll(written).WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            logger.LogInformation("Not every member acknowledged the leaving notice in time; they will detect the departure by heartbeat.");
        }
    }
}

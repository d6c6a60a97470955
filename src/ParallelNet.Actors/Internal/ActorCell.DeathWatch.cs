namespace ParallelNet.Actors.Internal;

// Watch / Unwatch / Terminated, exactly once per watch.
internal sealed partial class ActorCell
{
    private readonly HashSet<IActorRef> watching = [];
    private readonly HashSet<IActorRef> watchedBy = [];
    private readonly HashSet<IActorRef> terminatedQueued = [];

    public IActorRef Watch(IActorRef subject)
    {
        ArgumentNullException.ThrowIfNull(subject);
        if (!subject.Equals(self) && watching.Add(subject))
            subject.SendSystemMessage(new Watch(subject, self));
        return subject;
    }

    public IActorRef Unwatch(IActorRef subject)
    {
        ArgumentNullException.ThrowIfNull(subject);
        if (watching.Remove(subject)) subject.SendSystemMessage(new Unwatch(subject, self));
        terminatedQueued.Remove(subject);
        return subject;
    }

    private void AddWatcher(Watch watch)
    {
        if (!watch.Watchee.Equals(self) || watch.Watcher.Equals(self)) return;
        watchedBy.Add(watch.Watcher);
    }

    private void RemoveWatcher(Unwatch unwatch)
    {
        if (unwatch.Watchee.Equals(self)) watchedBy.Remove(unwatch.Watcher);
    }

    private void WatchedActorTerminated(IActorRef actorRef)
    {
        // Removing it from the watch set is what makes the Terminated arrive exactly once.
        if (!watching.Remove(actorRef) || terminating) return;
        terminatedQueued.Add(actorRef);
        self.Tell(new Terminated(actorRef), actorRef);
    }

    /// <summary>A system message that reached this actor after it stopped: a late Watch is answered at once.</summary>
    internal void HandleSystemMessageAfterDeath(SystemMessage message)
    {
        if (message is Watch watch && watch.Watchee.Equals(self) && !watch.Watcher.Equals(self))
            watch.Watcher.SendSystemMessage(new DeathWatchNotification(self));
    }

    private void NotifyWatchersAndUnwatchAll()
    {
        foreach (IActorRef watcher in watchedBy) watcher.SendSystemMessage(new DeathWatchNotification(self));
        watchedBy.Clear();
        foreach (IActorRef subject in watching) subject.SendSystemMessage(new Unwatch(subject, self));
        watching.Clear();
        terminatedQueued.Clear();
    }
}

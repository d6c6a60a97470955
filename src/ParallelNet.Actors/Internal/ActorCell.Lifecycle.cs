namespace ParallelNet.Actors.Internal;

// Start, failure, supervision, restart and stop.
internal sealed partial class ActorCell
{
    private readonly HashSet<ActorCell> stoppingChildren = [];
    private readonly Dictionary<ActorCell, ChildRestartStats> restartStats = [];
    private object? failedMessage;
    private ActorCell? escalatedChild;
    private Exception? pendingRecreateCause;
    private bool terminating;

    private void CreateActor()
    {
        if (terminating) return;
        try
        {
            actor = NewActorInstance();
            actor.InvokePreStart();
            suspended = false;
        }
        catch (Exception ex)
        {
            actor = null;
            ReportFailure(new ActorInitializationException(self, $"[{self.Path}] could not be started ({props}): {ex.Message}", ex));
        }
    }

    private ActorBase NewActorInstance()
    {
        ActorBase instance = props.NewActor();
        instance.OnConstructed();
        instance.AttachTo(this);
        return instance;
    }

    /// <summary>The actor threw: suspend it and ask the parent what to do.</summary>
    private void HandleInvokeFailure(Exception cause, object? message)
    {
        if (terminating)
        {
            PublishError(cause, "failed while stopping; it stops anyway");
            return;
        }
        failedMessage = message;
        ReportFailure(cause);
    }

    private void ReportFailure(Exception cause)
    {
        suspended = true;
        if (parent is null)
        {
            // Only the guardian has no parent: a failure escalated this far ends the system, as in Akka.
            PublishError(cause, "the user guardian failed; the actor system terminates");
            BeginTerminate();
            return;
        }
        parent.mailbox.PostSystem(new Failed(this, cause));
    }

    private void HandleChildFailure(Failed failed)
    {
        ActorCell child = failed.Child;
        if (!IsChild(child) || stoppingChildren.Contains(child)) return; // already on its way out

        SupervisorStrategy strategy = SupervisorStrategyForChildren();
        if (!restartStats.TryGetValue(child, out ChildRestartStats? stats))
            restartStats[child] = stats = new ChildRestartStats();
        Directive directive = strategy.HandleFailure(stats, failed.Cause, system.TimeProvider);
        if (directive != Directive.Escalate)
            child.PublishError(failed.Cause, $"supervisor [{self.Path}] decided {directive}");

        switch (directive)
        {
            case Directive.Resume:
                child.mailbox.PostSystem(Resume.Instance);
                break;
            case Directive.Restart:
                child.mailbox.PostSystem(new Recreate(failed.Cause));
                break;
            case Directive.Stop:
                StopChild(child);
                break;
            case Directive.Escalate:
                escalatedChild = child;
                HandleInvokeFailure(failed.Cause, null);
                break;
        }
    }

    private SupervisorStrategy SupervisorStrategyForChildren()
    {
        if (props.SupervisorStrategy is { } fromProps) return fromProps;
        if (actor is null) return SupervisorStrategy.DefaultStrategy;
        try
        {
            return actor.InvokeSupervisorStrategy();
        }
        catch (Exception ex)
        {
            PublishError(ex, "SupervisorStrategy() threw; the default strategy applies");
            return SupervisorStrategy.DefaultStrategy;
        }
    }

    private void ResumeAfterFailure()
    {
        if (terminating) return;
        if (actor is null)
        {
            // Nothing to resume when construction itself failed: build a fresh instance instead.
            BeginRecreate(new InvalidOperationException($"[{self.Path}] was resumed after its construction failed."));
            return;
        }
        suspended = false;
        failedMessage = null;
        if (escalatedChild is { } child)
        {
            escalatedChild = null;
            child.mailbox.PostSystem(Resume.Instance);
        }
    }

    private void BeginRecreate(Exception cause)
    {
        if (terminating) return;
        timers.CancelAll();
        if (actor is not null)
        {
            try
            {
                actor.InvokePreRestart(cause, failedMessage);
            }
            catch (Exception ex)
            {
                PublishError(ex, "PreRestart threw; the restart goes on");
            }
            actor = null;
            timers.CancelAll(); // in case PreRestart started one
        }
        pendingRecreateCause = cause;
        if (stoppingChildren.Count == 0) FinishRecreate();
    }

    private void FinishRecreate()
    {
        Exception cause = pendingRecreateCause!;
        pendingRecreateCause = null;
        failedMessage = null;
        escalatedChild = null;
        try
        {
            actor = NewActorInstance();
            actor.InvokePostRestart(cause);
            suspended = false;
        }
        catch (Exception ex)
        {
            actor = null;
            ReportFailure(new ActorInitializationException(self, $"[{self.Path}] could not be restarted ({props}): {ex.Message}", ex));
        }
        // Children that PreRestart left alive are restarted too, so none keeps state from before the failure.
        foreach (IActorRef childRef in GetChildren())
        {
            if (FindChild(childRef) is { } survivor && !stoppingChildren.Contains(survivor))
                survivor.mailbox.PostSystem(new Recreate(cause));
        }
    }

    private void StopChild(ActorCell child)
    {
        if (stoppingChildren.Add(child)) child.mailbox.PostSystem(Terminate.Instance);
    }

    /// <summary>Stop: refuse new children, stop the existing ones, and finish once the last has gone.</summary>
    private void BeginTerminate()
    {
        if (terminating) return;
        terminating = true;
        timers.CancelAll();
        List<ActorCell> toStop;
        lock (childrenLock)
        {
            acceptsChildren = false;
            toStop = [.. children.Values];
        }
        foreach (ActorCell child in toStop) StopChild(child);
        if (toStop.Count == 0) FinishTerminate();
    }

    private void HandleChildTerminated(ActorCell child)
    {
        bool noChildrenLeft;
        lock (childrenLock)
        {
            RemoveChildLocked(child);
            noChildrenLeft = children.Count == 0;
        }
        stoppingChildren.Remove(child);
        restartStats.Remove(child);
        if (ReferenceEquals(escalatedChild, child)) escalatedChild = null;

        if (terminating)
        {
            if (noChildrenLeft) FinishTerminate();
        }
        else if (pendingRecreateCause is not null && stoppingChildren.Count == 0)
        {
            FinishRecreate();
        }
    }

    private void FinishTerminate()
    {
        if (actor is not null)
        {
            try
            {
                actor.InvokePostStop();
            }
            catch (Exception ex)
            {
                PublishError(ex, "PostStop threw; the actor is stopped anyway");
            }
            actor = null;
            timers.CancelAll(); // in case PostStop started one
        }
        IsTerminated = true;

        List<SystemMessage> leftovers = mailbox.Close(envelope => system.PublishDeadLetter(envelope.Message, envelope.Sender, self));
        foreach (SystemMessage leftover in leftovers) HandleSystemMessageAfterDeath(leftover);
        // Free the name before anyone hears of the death, so a watcher may reuse it at once.
        parent?.ReleaseChildName(this);
        NotifyWatchersAndUnwatchAll();

        if (parent is not null) parent.mailbox.PostSystem(new ChildTerminated(this));
        else system.OnGuardianTerminated();
    }

    private void ReleaseChildName(ActorCell child)
    {
        lock (childrenLock) RemoveChildLocked(child);
    }

    private void RemoveChildLocked(ActorCell child)
    {
        if (children.TryGetValue(child.self.Path.Name, out ActorCell? known) && ReferenceEquals(known, child))
            children.Remove(child.self.Path.Name);
    }
}

using System.Globalization;

namespace ParallelNet.Actors.Internal;

/// <summary>
/// The kernel's record of one actor: its mailbox, current instance, children, watches and timers.
/// Apart from the children table (which <see cref="ActorOf"/> may touch from any thread for the
/// guardian), every field is used only on the mailbox's turn, one thread at a time.
/// </summary>
internal sealed partial class ActorCell : IActorContext
{
    private readonly ActorSystem system;
    private readonly ActorCell? parent;
    private readonly Props props;
    private readonly LocalActorRef self;
    private readonly Mailbox mailbox;
    private readonly TimerScheduler timers;

    private readonly Lock childrenLock = new();
    private readonly Dictionary<string, ActorCell> children = new(StringComparer.Ordinal);
    private bool acceptsChildren = true;
    private int nextGeneratedName;

    private ActorBase? actor;
    private Envelope current;
    private bool suspended = true; // until Create has run

    public ActorCell(ActorSystem system, ActorCell? parent, Props props, ActorPath path)
    {
        this.system = system;
        this.parent = parent;
        this.props = props;
        self = new LocalActorRef(this, path);
        mailbox = new Mailbox(this, props.Dispatcher);
        timers = new TimerScheduler(self, system.TimeProvider);
    }

    public ActorSystem System => system;
    public IActorRef Self => self;
    public IActorRef Sender => current.Sender ?? system.DeadLetters;
    public IActorRef Parent => parent?.Self ?? system.Nobody;
    public Props Props => props;
    public ITimerScheduler Timers => timers;
    internal Mailbox Mailbox => mailbox;

    /// <summary>True once the actor has stopped for good and its mailbox is closed.</summary>
    public bool IsTerminated { get; private set; }

    public bool CanProcessUserMessages => actor is not null && !suspended && !terminating && pendingRecreateCause is null;

    /// <summary>Starts the actor's life: posts Create so the constructor and PreStart run on the actor's own turn.</summary>
    public void Start() => mailbox.PostSystem(Create.Instance);

    public IActorRef ActorOf(Props childProps, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(childProps);
        if (name is not null && ActorPath.DescribeInvalidElement(name, allowReservedPrefix: false) is { } problem)
            throw new InvalidActorNameException($"Cannot create a child of [{self.Path}]: {problem}");
        ActorCell child;
        lock (childrenLock)
        {
            if (!acceptsChildren)
                throw new InvalidOperationException(
                    $"Cannot create child {name ?? "(unnamed)"} of [{self.Path}]: that actor is stopping" +
                    (parent is null ? $" because actor system '{system.Name}' is terminating." : "."));
            name ??= "$" + (nextGeneratedName++).ToString(CultureInfo.InvariantCulture);
            if (children.ContainsKey(name))
                throw new InvalidActorNameException(
                    $"Actor name [{name}] is not unique under [{self.Path}]: a live child has it. Stop that child and wait for its Terminated, or choose another name.");
            child = new ActorCell(system, this, childProps, self.Path / name);
            children.Add(name, child);
        }
        child.Start();
        return child.Self;
    }

    public IReadOnlyList<IActorRef> GetChildren()
    {
        lock (childrenLock) return [.. children.Values.Select(c => c.Self)];
    }

    public IActorRef Child(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        lock (childrenLock) return children.TryGetValue(name, out ActorCell? child) ? child.Self : system.Nobody;
    }

    public void Stop(IActorRef target)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (FindChild(target) is { } child) StopChild(child);
        else target.SendSystemMessage(Terminate.Instance);
    }

    /// <summary>The live child cell called <paramref name="name"/>, for resolving a path element by element.</summary>
    internal ActorCell? FindChild(string name)
    {
        lock (childrenLock) return children.TryGetValue(name, out ActorCell? child) ? child : null;
    }

    private ActorCell? FindChild(IActorRef target)
    {
        lock (childrenLock)
        {
            return children.TryGetValue(target.Path.Name, out ActorCell? child) && ReferenceEquals(child.Self, target) ? child : null;
        }
    }

    private bool IsChild(ActorCell candidate)
    {
        lock (childrenLock)
        {
            return children.TryGetValue(candidate.self.Path.Name, out ActorCell? child) && ReferenceEquals(child, candidate);
        }
    }

    /// <summary>Processes one user message; returns the handler's task when it is still running.</summary>
    public Task? Invoke(Envelope envelope)
    {
        object message = envelope.Message;
        switch (message)
        {
            case PoisonPill:
                BeginTerminate();
                return null;
            case TimerMessage timerMessage:
                if (!timers.TryAccept(timerMessage)) return null; // cancelled or replaced after it was queued
                envelope = new Envelope(timerMessage.Message, self);
                message = timerMessage.Message;
                break;
            case Terminated terminated:
                if (!terminatedQueued.Remove(terminated.ActorRef)) return null; // unwatched since it was queued
                break;
        }

        current = envelope;
        try
        {
            if (message is Kill) throw new ActorKilledException($"[{self.Path}] was sent Kill.");
            Task? pending = actor!.Dispatch(message);
            if (pending is null)
            {
                current = default;
                return null;
            }
            if (!pending.IsCompleted) return pending;
            CompleteAsyncHandler(pending);
            return null;
        }
        catch (Exception ex)
        {
            current = default;
            HandleInvokeFailure(ex, message);
            return null;
        }
    }

    /// <summary>The asynchronous handler of the current message has finished; a fault is a failure of that message.</summary>
    public void CompleteAsyncHandler(Task handler)
    {
        object message = current.Message;
        current = default;
        if (handler.IsCompletedSuccessfully) return;
        Exception cause = handler.Exception?.InnerExceptions.Count == 1
            ? handler.Exception.InnerException!
            : handler.Exception ?? (Exception)new TaskCanceledException($"The ReceiveAsync handler of [{self.Path}] was cancelled.");
        HandleInvokeFailure(cause, message);
    }

    public void ProcessSystemMessage(SystemMessage message)
    {
        switch (message)
        {
            case Create: CreateActor(); break;
            case Terminate: BeginTerminate(); break;
            case Watch watch: AddWatcher(watch); break;
            case Unwatch unwatch: RemoveWatcher(unwatch); break;
            case DeathWatchNotification notification: WatchedActorTerminated(notification.Actor); break;
            case Failed failed: HandleChildFailure(failed); break;
            case Resume: ResumeAfterFailure(); break;
            case Recreate recreate: BeginRecreate(recreate.Cause); break;
            case ChildTerminated childTerminated: HandleChildTerminated(childTerminated.Child); break;
            default:
                PublishError(new InvalidOperationException($"Unknown system message {message.GetType().Name}."), "ignored the system message");
                break;
        }
    }

    private void PublishError(Exception cause, string description) =>
        system.EventStream.Publish(new ActorError(self, cause, description));

    public override string ToString() => $"ActorCell({self.Path})";
}

using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using ParallelNet.Actors.Internal;

namespace ParallelNet.Actors;

/// <summary>
/// A named family of actors with one clock, one event stream and one dead-letter office. Actors made
/// with <see cref="ActorOf"/> are children of the user guardian (<c>/user</c>).
/// </summary>
public sealed class ActorSystem : IAsyncDisposable
{
    private readonly ActorCell guardian;
    private readonly TaskCompletionSource terminated = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, IActorRef> temporaries = new(StringComparer.Ordinal);
    private long temporaryNames;

    private ActorSystem(string name, TimeProvider timeProvider)
    {
        Name = name;
        TimeProvider = timeProvider;
        Address = Address.Local(name);
        ActorPath root = ActorPath.Root(Address);
        DeadLetters = new DeadLetterActorRef(this, root / "deadLetters");
        Nobody = new DeadLetterActorRef(this, root / "nobody");
        guardian = new ActorCell(this, null, Props.Create(static () => new GuardianActor()), root / "user");
        guardian.Start();
    }

    /// <param name="name">Letters, digits, '-' and '_'; it becomes part of every actor path.</param>
    /// <param name="timeProvider">The clock for timers, Ask timeouts and retry windows; tests pass a fake one. Default: the system clock.</param>
    public static ActorSystem Create(string name, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_'))
                throw new ArgumentException($"Actor system name \"{name}\" contains '{c}'; use only ASCII letters, digits, '-' and '_'.", nameof(name));
        }
        return new ActorSystem(name, timeProvider ?? TimeProvider.System);
    }

    public string Name { get; }
    public Address Address { get; }
    public TimeProvider TimeProvider { get; }
    public EventStream EventStream { get; } = new();

    /// <summary>Where undeliverable messages go; also the Sender of a message sent without one.</summary>
    public IActorRef DeadLetters { get; }

    /// <summary>The reference that stands for "no actor"; messages to it become dead letters.</summary>
    public IActorRef Nobody { get; }

    /// <summary>Completes once every actor has stopped after <see cref="Terminate"/> (or a guardian failure).</summary>
    public Task WhenTerminated => terminated.Task;

    /// <summary>Creates and starts a top-level actor, supervised by the user guardian with the default strategy.</summary>
    public IActorRef ActorOf(Props props, string? name = null) => guardian.ActorOf(props, name);

    /// <summary>Stops <paramref name="actor"/> after its current message; the rest of its mailbox becomes dead letters.</summary>
    public void Stop(IActorRef actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        actor.SendSystemMessage(ParallelNet.Actors.Terminate.Instance);
    }

    /// <summary>Stops all actors (children before parents) and completes when they have all stopped.</summary>
    public Task Terminate()
    {
        guardian.Self.SendSystemMessage(ParallelNet.Actors.Terminate.Instance);
        return WhenTerminated;
    }

    public async ValueTask DisposeAsync() => await Terminate().ConfigureAwait(false);

    /// <summary>
    /// Finds the live actor at <paramref name="path"/> (a path of this system: <c>/user/...</c>, or the
    /// <c>/temp/...</c> reply address of an Ask still waiting). A remote transport uses it to deliver
    /// what arrives from the wire; false when nothing lives there now.
    /// </summary>
    public bool TryResolve(ActorPath path, [NotNullWhen(true)] out IActorRef? actor)
    {
        ArgumentNullException.ThrowIfNull(path);
        actor = null;
        if (!path.Address.Equals(Address)) return false;
        IReadOnlyList<string> elements = path.Elements;
        if (elements.Count == 0) return false;
        if (elements[0] == "temp") return elements.Count == 2 && temporaries.TryGetValue(elements[1], out actor);
        if (elements[0] != "user") return false;
        ActorCell? cell = guardian;
        for (int i = 1; i < elements.Count && cell is not null; i++) cell = cell.FindChild(elements[i]);
        if (cell is null || cell.IsTerminated) return false;
        actor = cell.Self;
        return true;
    }

    internal void RegisterTemporary(IActorRef temporary) => temporaries[temporary.Path.Name] = temporary;

    internal void UnregisterTemporary(IActorRef temporary) => temporaries.TryRemove(temporary.Path.Name, out _);

    internal ActorPath NewTemporaryPath() =>
        ActorPath.Root(Address) / "temp" / ("$" + Interlocked.Increment(ref temporaryNames).ToString(CultureInfo.InvariantCulture));

    internal void PublishDeadLetter(object message, IActorRef? sender, IActorRef recipient)
    {
        if (message is TimerMessage) return; // a timer that fired as its actor stopped: nobody sent it, nobody misses it
        EventStream.Publish(new DeadLetter(message, sender ?? DeadLetters, recipient));
    }

    internal void OnGuardianTerminated() => terminated.TrySetResult();

    public override string ToString() => $"ActorSystem({Name})";
}

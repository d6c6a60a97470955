namespace ParallelNet.Actors;

/// <summary>Stops the actor when it reaches the front of the mailbox: the messages queued before it are processed first.</summary>
public sealed class PoisonPill
{
    private PoisonPill() { }
    public static PoisonPill Instance { get; } = new();
    public override string ToString() => "PoisonPill";
}

/// <summary>Makes the actor fail with <see cref="ActorKilledException"/> when processed; the default supervisor then stops it.</summary>
public sealed class Kill
{
    private Kill() { }
    public static Kill Instance { get; } = new();
    public override string ToString() => "Kill";
}

/// <summary>Delivered once to each watcher when a watched actor has stopped (see <see cref="IActorContext.Watch"/>).</summary>
public sealed record Terminated(IActorRef ActorRef);

public static class Status
{
    /// <summary>A reply that faults the asker's task with <see cref="Cause"/>.</summary>
    public sealed record Failure(Exception Cause);

    /// <summary>A reply that only says "done".</summary>
    public sealed record Success(object? Value);
}

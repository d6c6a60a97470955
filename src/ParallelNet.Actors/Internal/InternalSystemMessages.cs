namespace ParallelNet.Actors.Internal;

// Messages between a parent and its children, which always live in the same process.

/// <summary>Constructs the actor and runs PreStart; the first message of every mailbox.</summary>
internal sealed record Create : SystemMessage
{
    public static Create Instance { get; } = new();
}

/// <summary>From a child to its parent: the child is suspended and waits for a directive.</summary>
internal sealed record Failed(ActorCell Child, Exception Cause) : SystemMessage;

/// <summary>From a parent: continue with the same instance (the failed message stays dropped).</summary>
internal sealed record Resume : SystemMessage
{
    public static Resume Instance { get; } = new();
}

/// <summary>From a parent: replace the instance (PreRestart, new instance from Props, PostRestart).</summary>
internal sealed record Recreate(Exception Cause) : SystemMessage;

/// <summary>From a child to its parent: the child has stopped for good.</summary>
internal sealed record ChildTerminated(ActorCell Child) : SystemMessage;

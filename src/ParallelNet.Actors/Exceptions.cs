namespace ParallelNet.Actors;

public sealed class AskTimeoutException : TimeoutException
{
    public AskTimeoutException(string message) : base(message) { }
}

/// <summary>The actor's constructor, PreStart or PostRestart threw; the default supervisor stops such an actor.</summary>
public sealed class ActorInitializationException : Exception
{
    public ActorInitializationException(IActorRef actor, string message, Exception innerException) : base(message, innerException)
    {
        Actor = actor;
    }

    public IActorRef Actor { get; }
}

/// <summary>Thrown when an actor does not handle the <see cref="Terminated"/> of an actor it watches; the default supervisor stops it.</summary>
public sealed class DeathPactException : Exception
{
    public DeathPactException(IActorRef deadActor)
        : base($"Watched actor [{deadActor.Path}] terminated and the watcher has no Receive<Terminated> handler; handle Terminated or Unwatch first.")
    {
        DeadActor = deadActor;
    }

    public IActorRef DeadActor { get; }
}

/// <summary>What an actor fails with when it processes <see cref="Kill"/>.</summary>
public sealed class ActorKilledException : Exception
{
    public ActorKilledException(string message) : base(message) { }
}

public sealed class InvalidActorNameException : ArgumentException
{
    public InvalidActorNameException(string message) : base(message) { }
}

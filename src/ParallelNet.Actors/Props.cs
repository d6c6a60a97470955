namespace ParallelNet.Actors;

/// <summary>
/// The recipe for an actor: how to make a fresh instance (at start and at every restart),
/// optionally the strategy that supervises its children, and the dispatcher its turns run on.
/// </summary>
public sealed class Props
{
    private readonly Func<ActorBase> factory;

    private Props(Type actorType, Func<ActorBase> factory, SupervisorStrategy? supervisorStrategy, Dispatcher dispatcher)
    {
        ActorType = actorType;
        this.factory = factory;
        SupervisorStrategy = supervisorStrategy;
        Dispatcher = dispatcher;
    }

    public Type ActorType { get; }

    /// <summary>Overrides the actor's own <c>SupervisorStrategy()</c> when set.</summary>
    public SupervisorStrategy? SupervisorStrategy { get; }

    /// <summary>Where the actor's turns run; <see cref="Actors.Dispatcher.ThreadPool"/> unless set. Children do not inherit it.</summary>
    public Dispatcher Dispatcher { get; }

    /// <summary>
    /// Props whose <paramref name="factory"/> makes a new actor each call. Capture only immutable
    /// arguments: the factory runs again on every restart.
    /// </summary>
    public static Props Create<TActor>(Func<TActor> factory) where TActor : ActorBase
    {
        ArgumentNullException.ThrowIfNull(factory);
        return new Props(typeof(TActor), factory, null, Dispatcher.ThreadPool);
    }

    public static Props Create<TActor>() where TActor : ActorBase, new() => new(typeof(TActor), static () => new TActor(), null, Dispatcher.ThreadPool);

    public Props WithSupervisorStrategy(SupervisorStrategy strategy)
    {
        ArgumentNullException.ThrowIfNull(strategy);
        return new Props(ActorType, factory, strategy, Dispatcher);
    }

    public Props WithDispatcher(Dispatcher dispatcher)
    {
        ArgumentNullException.ThrowIfNull(dispatcher);
        return new Props(ActorType, factory, SupervisorStrategy, dispatcher);
    }

    internal ActorBase NewActor()
    {
        ActorBase actor = factory();
        if (actor is null)
            throw new InvalidOperationException($"The Props factory for {ActorType.Name} returned null; it must return a new actor instance each call.");
        return actor;
    }

    public override string ToString() => $"Props({ActorType.Name})";
}

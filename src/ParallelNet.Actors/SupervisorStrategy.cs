using ParallelNet.Actors.Internal;

namespace ParallelNet.Actors;

/// <summary>How a parent treats the failures of its children (one decision per failure).</summary>
public abstract class SupervisorStrategy
{
    private protected SupervisorStrategy() { }

    /// <summary>
    /// Stops children that could not be created or were killed or broke a death pact, and restarts
    /// them after any other exception, without a retry limit.
    /// </summary>
    public static SupervisorStrategy DefaultStrategy { get; } = new OneForOneStrategy(DefaultDecider);

    /// <summary>Stops every failing child.</summary>
    public static SupervisorStrategy StoppingStrategy { get; } = new OneForOneStrategy(_ => Directive.Stop);

    public static Directive DefaultDecider(Exception cause) => cause switch
    {
        ActorInitializationException or ActorKilledException or DeathPactException => Directive.Stop,
        _ => Directive.Restart,
    };

    /// <summary>The directive for <paramref name="cause"/> before the retry budget is applied.</summary>
    public abstract Directive Decide(Exception cause);

    /// <summary>The directive actually applied: a Restart beyond the retry budget becomes Stop.</summary>
    internal abstract Directive HandleFailure(ChildRestartStats stats, Exception cause, TimeProvider time);
}

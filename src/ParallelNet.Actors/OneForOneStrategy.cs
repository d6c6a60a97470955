using ParallelNet.Actors.Internal;

namespace ParallelNet.Actors;

/// <summary>
/// Applies each decision to the failing child only. A child may be restarted at most
/// <see cref="MaxNrOfRetries"/> times within <see cref="WithinTimeRange"/>; one more failure that
/// asks for a restart stops it instead.
/// </summary>
public sealed class OneForOneStrategy : SupervisorStrategy
{
    private readonly Func<Exception, Directive> decider;

    /// <param name="maxNrOfRetries">Restarts allowed per window; -1 for no limit, 0 to stop at the first failure that asks for a restart.</param>
    /// <param name="withinTimeRange">The window; <see cref="Timeout.InfiniteTimeSpan"/> counts restarts over the child's whole life.</param>
    /// <param name="decider">Maps an exception to a directive; an exception it throws escalates the original failure.</param>
    public OneForOneStrategy(int maxNrOfRetries, TimeSpan withinTimeRange, Func<Exception, Directive> decider)
    {
        ArgumentNullException.ThrowIfNull(decider);
        if (maxNrOfRetries < -1)
            throw new ArgumentOutOfRangeException(nameof(maxNrOfRetries), maxNrOfRetries, "maxNrOfRetries must be -1 (unlimited) or at least 0.");
        if (withinTimeRange <= TimeSpan.Zero && withinTimeRange != Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(nameof(withinTimeRange), withinTimeRange, "withinTimeRange must be positive, or Timeout.InfiniteTimeSpan for no window.");
        MaxNrOfRetries = maxNrOfRetries;
        WithinTimeRange = withinTimeRange;
        this.decider = decider;
    }

    /// <summary>Unlimited restarts.</summary>
    public OneForOneStrategy(Func<Exception, Directive> decider) : this(-1, Timeout.InfiniteTimeSpan, decider) { }

    public int MaxNrOfRetries { get; }
    public TimeSpan WithinTimeRange { get; }

    public override Directive Decide(Exception cause) => decider(cause);

    internal override Directive HandleFailure(ChildRestartStats stats, Exception cause, TimeProvider time)
    {
        Directive directive;
        try
        {
            directive = Decide(cause);
        }
        catch (Exception)
        {
            // A broken decider must not decide silently; the supervisor's own supervisor sees the failure.
            return Directive.Escalate;
        }
        if (directive == Directive.Restart && !stats.RequestRestartPermission(MaxNrOfRetries, WithinTimeRange, time))
            return Directive.Stop;
        return directive;
    }
}

namespace ParallelNet.Actors;

/// <summary>What a supervisor does with a failed child.</summary>
public enum Directive
{
    /// <summary>Keep the actor and its state; the failing message is dropped.</summary>
    Resume,
    /// <summary>Replace the actor by a new instance from its Props; the mailbox (and the messages in it) is kept.</summary>
    Restart,
    /// <summary>Stop the actor; the messages left in its mailbox become dead letters.</summary>
    Stop,
    /// <summary>Fail the supervisor itself with the same exception, so its own supervisor decides.</summary>
    Escalate,
}

namespace ParallelNet.Actors;

/// <summary>A message that could not be delivered: its recipient had stopped (or was Nobody).</summary>
public sealed record DeadLetter(object Message, IActorRef Sender, IActorRef Recipient);

/// <summary>A message the recipient's current behavior had no handler for.</summary>
public sealed record UnhandledMessage(object Message, IActorRef Sender, IActorRef Recipient);

/// <summary>An actor failed, or a hook threw while it was stopping; <see cref="Description"/> says what the kernel did about it.</summary>
public sealed record ActorError(IActorRef Actor, Exception Cause, string Description);

namespace ParallelNet.Actors.Internal;

/// <summary>A user message with its sender: a struct, so a Tell allocates nothing beyond the message itself.</summary>
internal readonly record struct Envelope(object Message, IActorRef? Sender);

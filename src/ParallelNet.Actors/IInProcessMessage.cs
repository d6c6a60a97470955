namespace ParallelNet.Actors;

/// <summary>
/// Marks a message that only means something inside one process, such as one that hands a pooled buffer back
/// to the actor that lent it. A remote transport drops such messages instead of serializing them: the peer
/// simply allocates anew, which is correct, only slower.
/// </summary>
public interface IInProcessMessage;

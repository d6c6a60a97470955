namespace ParallelNet.Cluster.Internal;

/// <summary>One registry entry: how a message type is written and read, or (no type id) that it never leaves the process.</summary>
internal sealed class MessageCodec(Type type, string? typeId, Action<PayloadWriter, object>? write, Func<PayloadReader, object>? read)
{
    public Type Type { get; } = type;

    /// <summary>Null for a local-only type.</summary>
    public string? TypeId { get; } = typeId;

    public bool IsLocalOnly => TypeId is null;

    public void Write(PayloadWriter writer, object message) => write!(writer, message);

    public object Read(PayloadReader reader) => read!(reader);
}

/// <summary>How payload codecs turn actor references into cluster paths and back.</summary>
internal interface IWireReferences
{
    string WirePathOf(ParallelNet.Actors.IActorRef actor);

    ParallelNet.Actors.IActorRef Resolve(string wirePath);
}

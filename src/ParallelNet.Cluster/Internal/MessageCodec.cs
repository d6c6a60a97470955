namespace ParallelNet.Cluster.Internal;

/// <summary>One registry entry: how a message type is written and read, or (no type id) that it never leaves the process.</summary>
internal sealed class MessageCodec(Type type, string? typeId, Action<PayloadWriter, object>? write, Func<PayloadReader, object>? read)
{
    public Type Type { get; } = type;

    /// <summary>Null for a local-only type.</summary>
    public string? TypeId { get; } = typeId;

    public bool IsLocalOnly => TypeId is null;

    /// <summary>Called once a message of this type has left the node (on the wire or dropped), with its local sender: the sender's memory is free again.</summary>
    public Action<object, ParallelNet.Actors.IActorRef>? Sent { get; init; }

    /// <summary>For a local-only type: the received tensor a message hands back to its remote sender, which this node may reuse.</summary>
    public Func<object, float[]?>? HandsBack { get; init; }

    public void Write(PayloadWriter writer, object message) => write!(writer, message);

    public object Read(PayloadReader reader) => read!(reader);
}

/// <summary>How payload codecs turn actor references into cluster paths and back.</summary>
internal interface IWireReferences
{
    string WirePathOf(ParallelNet.Actors.IActorRef actor);

    ParallelNet.Actors.IActorRef Resolve(string wirePath);
}

using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using Google.Protobuf;
using ParallelNet.Actors;
using ParallelNet.Cluster.Internal;

namespace ParallelNet.Cluster;

/// <summary>
/// Which message types may cross the wire and how: one registry per node (no global state), filled
/// before the node starts. A type is looked up by its exact runtime type when sent and by its type id
/// when received; a message of an unregistered type, an unknown type id or a payload that does not
/// decode is dropped with a log line. Types registered with <see cref="RegisterLocalOnly{T}"/> are
/// dropped silently: they mean something only inside one process.
/// </summary>
/// <example>
/// <code>
/// public sealed record GradientsComputed(long Step, float[] Gradients, IActorRef Worker);
///
/// serializers.Register&lt;GradientsComputed&gt;("train.GradientsComputed",
///     (w, m) => { w.WriteInt64(m.Step); w.WriteFloats(m.Gradients); w.WriteActorRef(m.Worker); },
///     r => new GradientsComputed(r.ReadInt64(), r.ReadFloats(), r.ReadActorRef()!));
/// </code>
/// </example>
public sealed class MessageSerializers
{
    private readonly ConcurrentDictionary<Type, MessageCodec> byType = new();
    private readonly ConcurrentDictionary<string, MessageCodec> byId = new(StringComparer.Ordinal);

    /// <summary>A registry that already knows the kernel's own messages: PoisonPill, Kill and Status.Failure.</summary>
    public MessageSerializers()
    {
        RegisterSingleton("pn.PoisonPill", PoisonPill.Instance);
        RegisterSingleton("pn.Kill", Kill.Instance);
        Register<Status.Failure>("pn.Status.Failure",
            (w, failure) => { w.WriteString(failure.Cause.GetType().FullName); w.WriteString(failure.Cause.Message); },
            r => new Status.Failure(new RemoteActorException(r.ReadString() ?? "", r.ReadString() ?? "")));
    }

    /// <summary>
    /// Registers <typeparamref name="T"/> under <paramref name="typeId"/> (stable across versions and the same on
    /// every node, e.g. "train.GradientsComputed"): <paramref name="write"/> writes the fields, <paramref name="read"/>
    /// reads them back in the same order.
    /// </summary>
    public MessageSerializers Register<T>(string typeId, Action<PayloadWriter, T> write, Func<PayloadReader, T> read) where T : class
        => Register(typeId, write, read, sent: null);

    /// <summary>
    /// As <see cref="Register{T}(string, Action{PayloadWriter, T}, Func{PayloadReader, T})"/>, and <paramref name="sent"/> is called
    /// once a message has left this node (its bytes are on the wire, or it was dropped) with the local actor that sent it: memory the
    /// payload referenced without copying (a tensor) is free again, and the codec may hand it back to that sender.
    /// </summary>
    public MessageSerializers Register<T>(string typeId, Action<PayloadWriter, T> write, Func<PayloadReader, T> read, Action<T, IActorRef>? sent) where T : class
        => RegisterReceivedAs<T, T>(typeId, write, read, sent);

    /// <summary>
    /// As <see cref="Register{T}(string, Action{PayloadWriter, T}, Func{PayloadReader, T}, Action{T, IActorRef}?)"/>, for a message a
    /// receiver gets in another form, <typeparamref name="TReceived"/>: e.g. with its tensor lent where it arrived
    /// (<see cref="PayloadReader.ReadLentFloats"/>), for a recipient that reads it in place and hands it back.
    /// </summary>
    public MessageSerializers RegisterReceivedAs<T, TReceived>(string typeId, Action<PayloadWriter, T> write, Func<PayloadReader, TReceived> read, Action<T, IActorRef>? sent)
        where T : class where TReceived : class
    {
        ArgumentNullException.ThrowIfNull(write);
        ArgumentNullException.ThrowIfNull(read);
        return Add(new MessageCodec(typeof(T), typeId, (w, m) => write(w, (T)m), r => read(r))
        {
            Sent = sent is null ? null : (m, sender) => sent((T)m, sender),
        });
    }

    /// <summary>Registers <typeparamref name="T"/> as a protobuf message <typeparamref name="TProto"/>.</summary>
    public MessageSerializers RegisterProtobuf<T, TProto>(string typeId, Func<T, TProto> toProto, Func<TProto, T> fromProto)
        where T : class where TProto : class, IMessage<TProto>, new()
    {
        ArgumentNullException.ThrowIfNull(toProto);
        ArgumentNullException.ThrowIfNull(fromProto);
        var parser = new MessageParser<TProto>(() => new TProto());
        return Register<T>(typeId, (w, m) => w.WriteMessage(toProto(m)), r => fromProto(r.ReadMessage(parser)));
    }

    /// <summary>Registers a message without fields: every receiver gets <paramref name="instance"/>.</summary>
    public MessageSerializers RegisterSingleton<T>(string typeId, T instance) where T : class
    {
        ArgumentNullException.ThrowIfNull(instance);
        return Register<T>(typeId, static (_, _) => { }, _ => instance);
    }

    /// <summary>Marks <typeparamref name="T"/> as meaningful only inside this process: sending it to another node drops it silently.</summary>
    public MessageSerializers RegisterLocalOnly<T>() where T : class => RegisterLocalOnly<T>(handsBack: null);

    /// <summary>
    /// As <see cref="RegisterLocalOnly{T}()"/> for a message that hands a buffer back to the actor it came from. When that actor is
    /// on another node, the buffer is one this node decoded with <see cref="PayloadReader.ReadPooledFloats"/>: instead of crossing
    /// the wire, <paramref name="handsBack"/> names it and the node reuses it for a later message.
    /// </summary>
    public MessageSerializers RegisterLocalOnly<T>(Func<T, float[]?>? handsBack) where T : class
    {
        var codec = new MessageCodec(typeof(T), null, null, null) { HandsBack = handsBack is null ? null : m => handsBack((T)m) };
        if (!byType.TryAdd(typeof(T), codec))
            throw new ArgumentException($"{typeof(T).FullName} is already registered.", nameof(T));
        return this;
    }

    /// <summary>True when <paramref name="messageType"/> can be sent (or is local-only).</summary>
    public bool IsRegistered(Type messageType) => byType.ContainsKey(messageType);

    internal bool TryGetByType(Type type, [NotNullWhen(true)] out MessageCodec? codec) => byType.TryGetValue(type, out codec);

    internal bool TryGetById(string typeId, [NotNullWhen(true)] out MessageCodec? codec) => byId.TryGetValue(typeId, out codec);

    private MessageSerializers Add(MessageCodec codec)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(codec.TypeId);
        if (codec.TypeId.Length > 256)
            throw new ArgumentException($"Type id \"{codec.TypeId[..32]}...\" is longer than 256 characters.", nameof(codec));
        if (!byId.TryAdd(codec.TypeId, codec))
            throw new ArgumentException($"Type id \"{codec.TypeId}\" is already registered for {byId[codec.TypeId].Type.FullName}.", nameof(codec));
        if (!byType.TryAdd(codec.Type, codec))
        {
            byId.TryRemove(codec.TypeId, out _);
            throw new ArgumentException($"{codec.Type.FullName} is already registered.", nameof(codec));
        }
        return this;
    }
}

/// <summary>The cause of a <see cref="Status.Failure"/> that came from another node: the original exception's type name and message.</summary>
public sealed class RemoteActorException : Exception
{
    public RemoteActorException() { }

    public RemoteActorException(string message) : base(message) { }

    public RemoteActorException(string message, Exception innerException) : base(message, innerException) { }

    public RemoteActorException(string remoteType, string message) : base(message) => RemoteType = remoteType;

    /// <summary>The full name of the exception type thrown on the other node.</summary>
    public string RemoteType { get; } = "";
}

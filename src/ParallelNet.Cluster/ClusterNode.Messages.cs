using System.Diagnostics;
using Microsoft.Extensions.Logging;
using ParallelNet.Actors;
using ParallelNet.Cluster.Internal;
using ParallelNet.Cluster.Internal.SharedMemory;
using ParallelNet.Cluster.Protocol;

namespace ParallelNet.Cluster;

// Actor messages and system messages to and from other nodes.
public sealed partial class ClusterNode
{
    private const int MaxPathLength = 2048;
    private const int RemoteRefCacheLimit = 10_000;

    /// <summary>Encodes <paramref name="message"/> for <paramref name="recipient"/>'s node and queues it; drops it with a log line when it cannot go.</summary>
    internal void SendMessage(RemoteActorRef recipient, object message, IActorRef? sender)
    {
        Type type = message.GetType();
        if (!Serializers.TryGetByType(type, out MessageCodec? codec))
        {
            dropLog.Warn($"no-codec {type.FullName}", () => $"Dropped a {type.FullName} for {recipient.Path}: no codec is registered for it. " +
                "Register one on ClusterNodeOptions.Serializers (Register, RegisterProtobuf or RegisterLocalOnly) on every node.");
            return;
        }
        if (codec.IsLocalOnly)
        {
            // Meaningful only inside this process, by design. A buffer handed back to a remote sender is one this node decoded.
            if (codec.HandsBack?.Invoke(message) is { } received) receiveBuffers.Return(received);
            return;
        }
        // Called exactly once, whether the message goes out or is dropped below, so that a lent tensor always comes back.
        Action? sent = codec.Sent is { } hook && sender is not null ? () => hook(message, sender) : null;
        string senderPath = sender is null ? "" : WirePathOf(sender).ToString();
        string recipientPath = recipient.Path.ToString();
        if (recipientPath.Length > MaxPathLength || senderPath.Length > MaxPathLength)
        {
            dropLog.Warn("long-path", () => $"Dropped a {codec.TypeId} for {recipientPath[..Math.Min(80, recipientPath.Length)]}...: an actor path is longer than {MaxPathLength} characters.");
            sent?.Invoke();
            return;
        }
        List<ReadOnlyMemory<byte>> payload;
        try
        {
            var writer = new PayloadWriter(this);
            codec.Write(writer, message);
            payload = writer.Finish();
        }
        catch (Exception ex)
        {
            dropLog.Warn($"encode {codec.TypeId}", () => $"Dropped a {codec.TypeId} for {recipient.Path}: its codec failed to encode it: {ex.Message}");
            sent?.Invoke();
            return;
        }
        var outbound = OutboundMessage.ForMessage(recipientPath, senderPath, codec.TypeId!, payload, sent, HopTrace.Enabled ? message : null,
            key: message);
        if (outbound.Traced is not null) HopTrace.MarkMessage(message, "enqueued", Stopwatch.GetTimestamp());
        if (outbound.PayloadLength > options.MaxMessageSize)
        {
            dropLog.Warn($"oversized-send {codec.TypeId}", () => $"Dropped a {codec.TypeId} of {outbound.PayloadLength} bytes for {recipient.Path}: over MaxMessageSize ({options.MaxMessageSize}).");
            outbound.Complete();
            return;
        }
        Enqueue(recipient.Path.Address, outbound, codec.TypeId!);
    }

    /// <summary>Forwards the public system messages (watch, unwatch, death notice, stop) to the node of <paramref name="target"/>.</summary>
    internal void SendSystemMessage(RemoteActorRef target, SystemMessage message)
    {
        switch (message)
        {
            case Watch watch when watch.Watchee.Equals(target):
                remoteWatches.Add(target, watch.Watcher);
                SendSystemFrame(target.Path.Address, SystemFrame.Types.Kind.Watch, target.Path.ToString(), WirePathOf(watch.Watcher).ToString());
                if (IsRemovedAddress(target.Path.Address)) NotifyWatchersOfRemovedNode(target.Path.Address);
                break;
            case Unwatch unwatch when unwatch.Watchee.Equals(target):
                remoteWatches.Remove(target, unwatch.Watcher);
                SendSystemFrame(target.Path.Address, SystemFrame.Types.Kind.Unwatch, target.Path.ToString(), WirePathOf(unwatch.Watcher).ToString());
                break;
            case DeathWatchNotification notification:
                // target is a watcher on another node; the dead actor is ours.
                SendSystemFrame(target.Path.Address, SystemFrame.Types.Kind.DeathWatchNotification, WirePathOf(notification.Actor).ToString(), target.Path.ToString());
                break;
            case Terminate:
                SendSystemFrame(target.Path.Address, SystemFrame.Types.Kind.Terminate, target.Path.ToString(), "");
                break;
            default:
                logger.LogDebug("System message {Message} for {Target} does not cross the wire.", message, target);
                break;
        }
    }

    private void SendSystemFrame(Address node, SystemFrame.Types.Kind kind, string subject, string watcher) =>
        Enqueue(node, OutboundMessage.ForFrame(new ClusterFrame { System = new SystemFrame { Kind = kind, Subject = subject, Watcher = watcher } }), kind.ToString());

    private void Enqueue(Address node, OutboundMessage message, string description)
    {
        if (stopping.IsCancellationRequested)
        {
            message.Complete();
            return;
        }
        AssociationFor(node).TryEnqueue(message, description);
    }

    /// <summary>A complete actor message from <paramref name="from"/>: decode it and tell its recipient here.</summary>
    /// <param name="readAt">When the message's last frame was read (timestamp; 0 when not traced).</param>
    /// <param name="lent">The payload's memory is reused once this returns: the decoded message must not refer to it.</param>
    /// <param name="ringHold">Set when the payload lies in the peer's ring: tensors the codec lends from it come back if the message reaches nobody.</param>
    private void Deliver(Member from, MessageStart start, System.Buffers.ReadOnlySequence<byte> payload, long readAt, bool lent, RingHold? ringHold = null)
    {
        if (!Serializers.TryGetById(start.TypeId, out MessageCodec? codec) || codec.IsLocalOnly)
        {
            dropLog.Warn($"unknown-type {start.TypeId}", () => $"Dropped a message of unknown type \"{Truncate(start.TypeId)}\" from {from} for {Truncate(start.Recipient)}: " +
                "no codec has that type id on this node (different versions, or a codec registered on one side only).");
            return;
        }
        object message;
        try
        {
            message = codec.Read(new PayloadReader(this, payload, receiveBuffers, lent, ringHold));
        }
        catch (Exception ex)
        {
            ringHold?.Abandon();
            dropLog.Warn($"decode {codec.TypeId}", () => $"Dropped a {codec.TypeId} from {from} for {Truncate(start.Recipient)}: its payload does not decode: {ex.Message}");
            return;
        }
        if (readAt != 0)
        {
            HopTrace.MarkMessage(message, "read", readAt);
            HopTrace.MarkMessage(message, "decoded", Stopwatch.GetTimestamp());
        }
        IActorRef? sender = start.Sender.Length == 0 ? null : ResolveWire(start.Sender);
        if (!TryResolveLocal(start.Recipient, out IActorRef? recipient))
        {
            ringHold?.Abandon();
            System.DeadLetters.Tell(message, sender);
            return;
        }
        recipient.Tell(message, sender);
    }

    private void HandleSystemFrame(Member from, SystemFrame frame)
    {
        switch (frame.Kind)
        {
            case SystemFrame.Types.Kind.Watch:
            {
                IActorRef watcher = ResolveWire(frame.Watcher);
                if (TryResolveLocal(frame.Subject, out IActorRef? watchee)) watchee.SendSystemMessage(new Watch(watchee, watcher));
                else SendSystemFrame(watcher.Path.Address, SystemFrame.Types.Kind.DeathWatchNotification, frame.Subject, frame.Watcher); // nothing there: dead already
                break;
            }
            case SystemFrame.Types.Kind.Unwatch:
                if (TryResolveLocal(frame.Subject, out IActorRef? unwatched)) unwatched.SendSystemMessage(new Unwatch(unwatched, ResolveWire(frame.Watcher)));
                break;
            case SystemFrame.Types.Kind.DeathWatchNotification:
                if (TryResolveLocal(frame.Watcher, out IActorRef? localWatcher))
                {
                    IActorRef dead = ResolveWire(frame.Subject);
                    remoteWatches.Remove(dead, localWatcher);
                    localWatcher.SendSystemMessage(new DeathWatchNotification(dead));
                }
                break;
            case SystemFrame.Types.Kind.Terminate:
                if (TryResolveLocal(frame.Subject, out IActorRef? doomed)) doomed.SendSystemMessage(Terminate.Instance);
                break;
            default:
                dropLog.Warn($"system-kind {frame.Kind}", () => $"Ignored a system frame of unknown kind {frame.Kind} from {from}.");
                break;
        }
    }

    /// <summary>A wire path as a reference: the local actor when it points at this node, else a remote reference (dead letters when unparsable).</summary>
    private IActorRef ResolveWire(string wirePath)
    {
        if (remoteRefs.TryGetValue(wirePath, out RemoteActorRef? cached)) return cached;
        if (!ActorPath.TryParse(wirePath, out ActorPath? path)) return System.DeadLetters;
        return Resolve(path!);
    }

    private IActorRef Resolve(ActorPath path)
    {
        if (IsSelf(path.Address) || path.Address.Equals(System.Address))
            return System.TryResolve(LocalPathOf(path), out IActorRef? local) ? local : System.DeadLetters;
        string key = path.ToString();
        if (remoteRefs.TryGetValue(key, out RemoteActorRef? cached)) return cached;
        var remote = new RemoteActorRef(this, path);
        // Ask reply addresses are unique per question: keep the cache from growing without bound.
        if (remoteRefs.Count >= RemoteRefCacheLimit) remoteRefs.Clear();
        remoteRefs.TryAdd(key, remote);
        return remote;
    }

    private bool TryResolveLocal(string wirePath, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IActorRef? actor)
    {
        actor = null;
        return ActorPath.TryParse(wirePath, out ActorPath? path) && IsSelf(path!.Address) && System.TryResolve(LocalPathOf(path), out actor);
    }

    /// <summary>This node's address, also when a peer spells the host differently (localhost vs 127.0.0.1).</summary>
    private bool IsSelf(Address address) =>
        address.Protocol == Endpoint.Protocol && address.Port == SelfAddress.Port && address.System == SelfAddress.System
        && (string.Equals(address.Host, SelfAddress.Host, StringComparison.OrdinalIgnoreCase) || (IsLoopback(address.Host) && IsLoopback(SelfAddress.Host)));

    private static bool IsLoopback(string? host) => host is "localhost" or "127.0.0.1" or "[::1]" or "::1";

    private ActorPath LocalPathOf(ActorPath path)
    {
        ActorPath local = ActorPath.Root(System.Address);
        foreach (string element in path.Elements) local /= element;
        return local;
    }

    private static string Truncate(string text) => text.Length <= 120 ? text : text[..120] + "...";
}

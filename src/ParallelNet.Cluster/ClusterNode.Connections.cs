using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using ParallelNet.Actors;
using ParallelNet.Cluster.Internal;
using ParallelNet.Cluster.Internal.SharedMemory;
using ParallelNet.Cluster.Protocol;
using ParallelNet.Rpc;
using Status = ParallelNet.Rpc.Status;

namespace ParallelNet.Cluster;

// Streams between nodes: dialing, accepting, the handshake, and the loop that reads an established stream.
public sealed partial class ClusterNode
{
    /// <summary>Dials <paramref name="endpoint"/> in the background unless a dial to it is already under way.</summary>
    private void Dial(Endpoint endpoint)
    {
        if (stopping.IsCancellationRequested || selfEndpoints.ContainsKey(endpoint) || !dialsInFlight.TryAdd(endpoint, 0)) return;
        _ = Task.Run(async () =>
        {
            try
            {
                await DialAsync(endpoint).ConfigureAwait(false);
            }
            finally
            {
                dialsInFlight.TryRemove(endpoint, out _);
            }
        });
    }

    private async Task DialAsync(Endpoint endpoint)
    {
        GrpcClient client;
        try
        {
            client = clients.GetOrAdd(endpoint, e => new GrpcClient(e.ToUri(), new GrpcClientOptions { MaxReceiveMessageSize = options.MaxFrameSize, MaxSendMessageSize = options.MaxFrameSize }));
        }
        catch (Exception ex)
        {
            logger.LogWarning("Cannot dial {Endpoint}: {Problem}", endpoint, ex.Message);
            return;
        }
        var call = client.AsyncDuplexStreamingCall(ConnectMethod, new CallOptions(CancellationToken: stopping.Token));
        Link? link = null;
        try
        {
            var hello = new Hello { ProtocolVersion = options.ProtocolVersion, ClusterToken = Google.Protobuf.ByteString.CopyFrom(clusterToken), From = selfIdentity };
            await call.RequestStream.WriteAsync(new ClusterFrame { Hello = hello }).ConfigureAwait(false);
            using var timeout = new CancellationTokenSource(options.HandshakeTimeout, options.TimeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, stopping.Token);
            if (!await call.ResponseStream.MoveNext(linked.Token).ConfigureAwait(false))
            {
                logger.LogWarning("Node at {Endpoint} closed the stream without answering the handshake.", endpoint);
                call.Dispose();
                return;
            }
            ClusterFrame answer = call.ResponseStream.Current;
            switch (answer.KindCase)
            {
                case ClusterFrame.KindOneofCase.Refused:
                    logger.LogError("Node at {Endpoint} refused this node ({Address}): {Reason}", endpoint, SelfAddress, answer.Refused.Reason);
                    call.Dispose();
                    return;
                case ClusterFrame.KindOneofCase.Welcome when DescribeBadIdentity(answer.Welcome.Node) is { } problem:
                    logger.LogWarning("Node at {Endpoint} answered the handshake with a bad identity ({Problem}); closing.", endpoint, problem);
                    call.Dispose();
                    return;
                case ClusterFrame.KindOneofCase.Welcome when answer.Welcome.Node.Uid == Uid:
                    // A seed list that names this node under another host name: remember it and stop dialing it.
                    logger.LogDebug("{Endpoint} is this node itself; not dialing it again.", endpoint);
                    selfEndpoints.TryAdd(endpoint, 0);
                    call.Dispose();
                    return;
                case ClusterFrame.KindOneofCase.Welcome:
                    Member remote = MemberOf(answer.Welcome.Node);
                    if (RefusalOf(remote) is { } refusal)
                    {
                        dropLog.Warn($"not-connecting {remote.Uid}", () => $"Not connecting to {remote} at {endpoint}: {refusal}.");
                        call.Dispose();
                        return;
                    }
                    if (seeds.Contains(endpoint)) seedAddresses[endpoint] = remote.Address;
                    link = new Link(remote, dialed: true, call.RequestStream, call.ResponseStream, call, stopping.Token);
                    OnLinkUp(link, answer.Welcome.Members);
                    break;
                default:
                    logger.LogWarning("Node at {Endpoint} answered the handshake with a {Kind} frame; closing.", endpoint, answer.KindCase);
                    call.Dispose();
                    return;
            }
        }
        catch (Exception ex) when (link is null)
        {
            call.Dispose();
            if (stopping.IsCancellationRequested) return;
            LogLevel level = ex is RpcException { StatusCode: StatusCode.PermissionDenied or StatusCode.Unauthenticated } ? LogLevel.Error : LogLevel.Debug;
            logger.Log(level, "Could not connect to the node at {Endpoint}: {Problem}", endpoint, ex is RpcException rpc ? rpc.Status.ToString() : ex.Message);
            return;
        }
        await RunReaderAsync(link).ConfigureAwait(false);
    }

    /// <summary>The server side of a cluster stream: handshake, then read until either side closes it.</summary>
    private async Task AcceptAsync(IAsyncStreamReader<ClusterFrame> requests, IServerStreamWriter<ClusterFrame> responses, ServerCallContext context)
    {
        ClusterFrame first;
        try
        {
            using var timeout = new CancellationTokenSource(options.HandshakeTimeout, options.TimeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, context.CancellationToken, stopping.Token);
            if (!await requests.MoveNext(linked.Token).ConfigureAwait(false)) return;
            first = requests.Current;
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            logger.LogWarning("Peer {Peer} sent no valid handshake within {Timeout}: {Problem}", context.Peer, options.HandshakeTimeout, ex.Message);
            throw new RpcException(new Status(StatusCode.DeadlineExceeded, "No handshake received."));
        }
        catch (RpcException ex)
        {
            logger.LogWarning("Peer {Peer} opened a cluster stream with an unreadable first message: {Status}", context.Peer, ex.Status);
            throw;
        }
        if (first.KindCase != ClusterFrame.KindOneofCase.Hello)
        {
            logger.LogWarning("Peer {Peer} opened a cluster stream with a {Kind} frame instead of Hello; closing.", context.Peer, first.KindCase);
            throw new RpcException(new Status(StatusCode.InvalidArgument, "The first frame of a cluster stream must be Hello."));
        }
        Hello hello = first.Hello;
        string? problem = hello.ProtocolVersion != options.ProtocolVersion
            ? $"it speaks cluster protocol version {hello.ProtocolVersion}, this node speaks version {options.ProtocolVersion}; run the same ParallelNet version on every node"
            : !CryptographicOperations.FixedTimeEquals(hello.ClusterToken.Span, clusterToken)
                ? "its cluster token differs from this node's; give every node the same --cluster-token"
                : DescribeBadIdentity(hello.From);
        if (problem is null && hello.From!.Uid == Uid)
        {
            // This node dialed itself (through a seed address); the dialer side notes it and hangs up.
            await responses.WriteAsync(new ClusterFrame { Welcome = new Welcome { Node = selfIdentity } }).ConfigureAwait(false);
            return;
        }
        Member? remote = problem is null ? MemberOf(hello.From!) : null;
        problem ??= RefusalOf(remote!);
        if (problem is not null)
        {
            string who = hello.From is null ? "a node" : $"node {hello.From.System}@{hello.From.Host}:{hello.From.Port}";
            logger.LogWarning("Refused {Who} connecting from {Peer}: {Reason}.", who, context.Peer, problem);
            await TryWriteAsync(responses, new ClusterFrame { Refused = new Refused { Reason = $"{SelfAddress} refused the connection: {problem}." } }).ConfigureAwait(false);
            throw new RpcException(new Status(StatusCode.PermissionDenied, problem));
        }

        var welcome = new Welcome { Node = selfIdentity };
        welcome.Members.AddRange(Members.Select(m => m.Address.ToString()));
        await responses.WriteAsync(new ClusterFrame { Welcome = welcome }).ConfigureAwait(false);
        var link = new Link(remote!, dialed: false, responses, requests, null, context.CancellationToken);
        OnLinkUp(link, []);
        await RunReaderAsync(link).ConfigureAwait(false);
    }

    private static async Task TryWriteAsync(IServerStreamWriter<ClusterFrame> responses, ClusterFrame frame)
    {
        try
        {
            await responses.WriteAsync(frame).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The peer is gone already; the refusal is in this node's log either way.
        }
    }

    private static string? DescribeBadIdentity(NodeIdentity? identity)
    {
        if (identity is null) return "it did not say who it is";
        if (identity.Uid == 0 || identity.Port is < 1 or > 65535 || string.IsNullOrWhiteSpace(identity.Host) || identity.Host.Length > 255
            || string.IsNullOrWhiteSpace(identity.System) || identity.System.Length > 255 || identity.Roles.Count > 64)
            return "its identity (system, host, port, incarnation, roles) is malformed";
        return null;
    }

    private static Member MemberOf(NodeIdentity identity) =>
        new(new Address(Endpoint.Protocol, identity.System, identity.Host, identity.Port), identity.Uid, [.. identity.Roles]);

    /// <summary>Why a handshake with <paramref name="remote"/> must not go ahead, or null.</summary>
    private string? RefusalOf(Member remote)
    {
        if (stopping.IsCancellationRequested) return "this node is shutting down";
        lock (membershipGate)
        {
            if (membership.WasRemoved(remote.Uid))
                return $"incarnation {remote.Uid:x16} of {remote.Address} was removed from the cluster; restart that node to rejoin";
        }
        return null;
    }

    private void OnLinkUp(Link link, IEnumerable<string> gossip)
    {
        links.TryAdd(link, 0);
        var events = new List<MemberEvent>();
        lock (membershipGate)
        {
            membership.Join(link.Remote, events);
            Publish(events);
        }
        HandleRemovals(events);
        Association association = AssociationFor(link.Remote.Address);
        association.Uid = link.Remote.Uid;
        association.OfferLink(link);
        logger.LogDebug("Stream {Link} established.", link);
        DialUnknown(gossip);
    }

    /// <summary>Dials the addresses a peer mentioned that this node has no member for.</summary>
    private void DialUnknown(IEnumerable<string> addresses)
    {
        foreach (string text in addresses)
        {
            if (!ActorPath.TryParse(text, out ActorPath? path) || path!.Address.Host is null || path.Address.Equals(SelfAddress)) continue;
            bool known;
            lock (membershipGate) known = membership.Find(path.Address) is not null;
            if (!known) Dial(Endpoint.Of(path.Address));
        }
    }

    private async Task RunReaderAsync(Link link)
    {
        var reassembly = new Reassembly(options.MaxMessageSize, start => WarnOversized(link, start), framesAreLent: ConnectMethod.LendsReceivedBytes);
        using var rings = new PeerRings(options.SharedMemoryDirectory);
        try
        {
            while (await link.Reader.MoveNext(link.Closed).ConfigureAwait(false))
            {
                long readAt = HopTrace.Enabled ? Stopwatch.GetTimestamp() : 0;
                ClusterFrame frame = link.Reader.Current;
                Heard(link.Remote);
                if (!HandleFrame(link, frame, reassembly, rings, readAt)) break;
            }
        }
        catch (Exception ex) when (link.IsClosed || stopping.IsCancellationRequested)
        {
            logger.LogDebug(ex, "Stream {Link} closed.", link);
        }
        catch (Exception ex)
        {
            logger.LogInformation("Stream {Link} ended: {Problem}", link, ex is RpcException rpc ? rpc.Status.ToString() : ex.Message);
        }
        finally
        {
            LinkEnded(link);
        }
    }

    /// <summary>Acts on one frame; false when the stream must be closed.</summary>
    private bool HandleFrame(Link link, ClusterFrame frame, Reassembly reassembly, PeerRings rings, long readAt)
    {
        switch (frame.KindCase)
        {
            case ClusterFrame.KindOneofCase.Heartbeat:
                DialUnknown(frame.Heartbeat.Members);
                return true;
            case ClusterFrame.KindOneofCase.Message when frame.Message.Shared is not null:
                return DeliverShared(link, frame.Message, reassembly, rings, readAt);
            case ClusterFrame.KindOneofCase.RingOffer:
                SharedRingAnswer answer = rings.Answer(frame.RingOffer);
                if (!answer.Accepted) logger.LogInformation("Refused the shared-memory ring {Link} offered: {Reason}", link, answer.Reason);
                Enqueue(link.Remote.Address, OutboundMessage.ForFrame(new ClusterFrame { RingAnswer = answer }), "ring answer");
                return true;
            case ClusterFrame.KindOneofCase.RingAnswer:
                if (associations.TryGetValue(link.Remote.Address, out Association? offering)) offering.OnRingAnswer(frame.RingAnswer);
                return true;
            case ClusterFrame.KindOneofCase.RingReleased:
                if (associations.TryGetValue(link.Remote.Address, out Association? sending)) sending.OnRingReleased(frame.RingReleased);
                return true;
            case ClusterFrame.KindOneofCase.Message:
            case ClusterFrame.KindOneofCase.Continuation:
                if (reassembly.Accept(frame, out MessageStart? complete, out System.Buffers.ReadOnlySequence<byte> payload, out string? problem))
                {
                    if (complete is not null) Deliver(link.Remote, complete, payload, readAt, ConnectMethod.LendsReceivedBytes);
                    return true;
                }
                logger.LogWarning("Closing the stream {Link}: {Problem}", link, problem);
                return false;
            case ClusterFrame.KindOneofCase.Batch:
                foreach (MessageStart start in frame.Batch.Messages)
                {
                    if ((ulong)start.Data.Length != start.TotalLength || start.MoreData.Count > 0)
                    {
                        logger.LogWarning("Closing the stream {Link}: a batched message holds {Length} of its {Total} bytes in its data.", link, start.Data.Length, start.TotalLength);
                        return false;
                    }
                    Deliver(link.Remote, start, new System.Buffers.ReadOnlySequence<byte>(start.Data.Memory), readAt, ConnectMethod.LendsReceivedBytes);
                }
                return true;
            case ClusterFrame.KindOneofCase.System:
                HandleSystemFrame(link.Remote, frame.System);
                return true;
            case ClusterFrame.KindOneofCase.Leaving:
                RemoveMember(link.Remote, "it left the cluster");
                return false;
            default:
                logger.LogWarning("Closing the stream {Link}: unexpected {Kind} frame after the handshake.", link, frame.KindCase);
                return false;
        }
    }

    /// <summary>
    /// A message whose payload waits in a ring the peer offered on this stream: decoded in place, then the ring's space
    /// handed back. False (the stream is closed) when the frame contradicts the stream: no such ring, bytes outside it,
    /// or data beside the reference.
    /// </summary>
    private bool DeliverShared(Link link, MessageStart start, Reassembly reassembly, PeerRings rings, long readAt)
    {
        string? problem = null;
        PeerRing? ring = null;
        ReadOnlyMemory<byte> payload = default;
        if (!reassembly.IsIdle) problem = "a shared-memory message began while an earlier message was still incomplete";
        else if (!start.Data.IsEmpty || start.MoreData.Count > 0) problem = "a shared-memory message also carries data on the stream";
        else if (!rings.TryGet(start.Shared.Ring, out ring)) problem = $"a message refers to shared-memory ring {start.Shared.Ring:x16}, which was not accepted on this stream";
        else ring!.TrySlice(start.Shared.Position, start.TotalLength, out payload, out problem);
        if (problem is not null)
        {
            logger.LogWarning("Closing the stream {Link}: {Problem}", link, problem);
            return false;
        }
        var released = new SharedRingReleased { Ring = ring!.Id, Position = start.Shared.Position };
        // Sent once the message is decoded and any tensor lent from it is handed back; not after the stream ended (the
        // sender then releases what the stream held by itself, and would ignore it from another stream).
        var hold = new RingHold(ring, () =>
        {
            if (!link.IsClosed) Enqueue(link.Remote.Address, OutboundMessage.ForFrame(new ClusterFrame { RingReleased = released }), "ring release");
        });
        if (start.TotalLength > (ulong)options.MaxMessageSize) WarnOversized(link, start);
        else
            Deliver(link.Remote, start, new System.Buffers.ReadOnlySequence<byte>(payload), readAt, lent: true, hold);
        hold.Delivered();
        return true;
    }

    private void WarnOversized(Link link, MessageStart start) => dropLog.Warn($"oversized {start.TypeId}", () =>
        $"Dropped a {start.TypeId} of {start.TotalLength} bytes from {link.Remote} for {start.Recipient}: over MaxMessageSize ({options.MaxMessageSize} bytes).");

    private void LinkEnded(Link link)
    {
        links.TryRemove(link, out _);
        if (associations.TryGetValue(link.Remote.Address, out Association? association)) association.LinkClosed(link);
        link.Dispose();
    }

    /// <summary>The send queue for <paramref name="address"/>, created (and dialed) on first use.</summary>
    private Association AssociationFor(Address address) =>
        associations.GetOrAdd(address, a => new Association(a, options, logger, dropLog, NeedsLink, writerPlacement, rings));

    /// <summary>A queue has messages and no stream: dial, at most once per heartbeat interval.</summary>
    private void NeedsLink(Association association)
    {
        long now = options.TimeProvider.GetTimestamp();
        if (association.LastDialTimestamp != long.MinValue && options.TimeProvider.GetElapsedTime(association.LastDialTimestamp, now) < options.HeartbeatInterval) return;
        association.LastDialTimestamp = now;
        Dial(association.Endpoint);
    }
}

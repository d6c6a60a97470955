using System.Collections.Concurrent;
using System.Net;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ParallelNet.Actors;
using ParallelNet.Cluster.Internal;
using ParallelNet.Cluster.Protocol;
using ParallelNet.Rpc;
using Status = ParallelNet.Rpc.Status;

namespace ParallelNet.Cluster;

/// <summary>
/// An actor system behind a gRPC endpoint, member of a cluster of such nodes. Actors on other nodes are
/// reached through <see cref="ActorRefFor(ActorPath)"/> exactly like local ones (Tell with a sender, Ask,
/// Watch); each pair of nodes shares one bidirectional stream. Nodes join through seeds, exchange
/// heartbeats, and publish <see cref="MemberEvent"/>s on the system's event stream.
/// </summary>
public sealed partial class ClusterNode : IAsyncDisposable, IWireReferences
{
    /// <summary>Nodes speak to each other only when their versions are equal; bump it on any incompatible change of cluster.proto.</summary>
    public const uint ProtocolVersion = 4;

    private const string ServiceName = "parallelnet.cluster.v1.Cluster";

    // Received frames lend their large data from the gRPC layer's receive buffer until the next frame is read: the
    // reader loop decodes each complete message before reading on, and Reassembly copies the frames a longer one
    // must keep. Tensor traffic then reuses a few receive buffers instead of a fresh large array per frame.
    private static readonly Method<ClusterFrame, ClusterFrame> ConnectMethod =
        Method.Create<ClusterFrame, ClusterFrame>(MethodType.DuplexStreaming, ServiceName, "Connect", lendsReceivedBytes: true);

    private readonly ClusterNodeOptions options;
    private readonly ILogger logger;
    private readonly DropLog dropLog;
    private readonly byte[] clusterToken;
    private readonly NodeIdentity selfIdentity;
    private readonly ActorPath selfRoot;
    private readonly CancellationTokenSource stopping = new();
    private readonly ConcurrentDictionary<Address, Association> associations = new();
    private readonly ConcurrentDictionary<Endpoint, GrpcClient> clients = new();
    private readonly ConcurrentDictionary<Endpoint, byte> dialsInFlight = new();
    private readonly ConcurrentDictionary<string, RemoteActorRef> remoteRefs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Link, byte> links = new();
    private readonly RemoteWatches remoteWatches = new();
    private readonly ReceiveBufferPool receiveBuffers = new();
    private readonly WriterPlacement writerPlacement = new();
    private readonly Internal.SharedMemory.RingSupply? rings;
    private readonly Lock membershipGate = new();
    private readonly Membership membership;
    private readonly IReadOnlyList<Endpoint> seeds;
    private GrpcServer? server;
    private ITimer? heartbeatTimer;
    private int ticking;
    private int disposed;

    private ClusterNode(ClusterNodeOptions options, string publicHost, int port)
    {
        this.options = options;
        logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<ClusterNode>();
        dropLog = new DropLog(logger);
        clusterToken = global::System.Text.Encoding.UTF8.GetBytes(options.ClusterToken ?? "");
        Uid = NewUid();
        SelfAddress = new Address(Endpoint.Protocol, options.SystemName, publicHost, port);
        SelfMember = new Member(SelfAddress, Uid, [.. options.Roles]);
        selfIdentity = new NodeIdentity { System = options.SystemName, Host = publicHost, Port = port, Uid = Uid };
        selfIdentity.Roles.AddRange(options.Roles);
        System = ActorSystem.Create(options.SystemName, options.TimeProvider);
        selfRoot = ActorPath.Root(SelfAddress);
        membership = new Membership(options.TimeProvider, options.UnreachableAfter, options.RemovedAfter);
        if (options.SharedMemoryDirectory is { } directory) rings = new Internal.SharedMemory.RingSupply(directory, options.SharedMemoryRingBytes, logger);
        seeds = [.. options.Seeds.Select(Endpoint.Parse).Where(s => s != Endpoint.Of(SelfAddress))];
    }

    /// <summary>The node's actor system; create the actors other nodes talk to here.</summary>
    public ActorSystem System { get; }

    /// <summary>How other nodes address this one: <c>pn.tcp://system@host:port</c>.</summary>
    public Address SelfAddress { get; }

    public Member SelfMember { get; }

    /// <summary>This node's incarnation: random per start, so a restarted node is a new member.</summary>
    public ulong Uid { get; }

    /// <summary>Received tensors waiting to be reused (tests).</summary>
    internal int PooledReceiveBuffers => receiveBuffers.FreeCount;

    /// <summary>The same-host ring this node writes to <paramref name="peer"/> through, if any (tests).</summary>
    internal Internal.SharedMemory.SharedRing? RingTo(Address peer) =>
        associations.TryGetValue(peer, out Association? association) ? association.Rings?.Ring : null;

    /// <summary>
    /// Room for a tensor of <paramref name="count"/> floats this node will send to <paramref name="recipient"/>, in the
    /// node's shared-memory ring when the recipient's node has mapped it: compute the values there, and the message that
    /// carries them as its one large tensor leaves without a copy of them (its other fields go around them). Null when
    /// that path is not open (a local recipient, another host, shared memory off, no ring accepted yet, the ring full):
    /// use an array then. Cancel the reservation once its message has been sent (the sent hook), which does nothing if
    /// the message took it; or when it will not be sent. Do not write the values after sending them.
    /// </summary>
    public ReservedTensor? TryReserveTensor(IActorRef recipient, int count)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        if (recipient is not RemoteActorRef remote || count <= 0) return null;
        if (!associations.TryGetValue(remote.Path.Address, out Association? association) || association.Rings?.AcceptedRing is not { } ring) return null;
        return ring.TryReserve(count) is { } reserved ? new ReservedTensor(reserved) : null;
    }

    /// <summary>The node's same-host ring once made (tests).</summary>
    internal Internal.SharedMemory.SharedRing? OutgoingRing => rings?.Get();

    /// <summary>The bound TCP port.</summary>
    public int Port => SelfAddress.Port ?? 0;

    public MessageSerializers Serializers => options.Serializers;

    /// <summary>The other nodes currently in the cluster (reachable or not; this node excluded).</summary>
    public IReadOnlyList<Member> Members
    {
        get { lock (membershipGate) return membership.Members; }
    }

    /// <summary>The members nothing has been heard from for <see cref="ClusterNodeOptions.UnreachableAfter"/>.</summary>
    public IReadOnlyList<Member> UnreachableMembers
    {
        get { lock (membershipGate) return membership.Unreachable; }
    }

    /// <summary>Starts the endpoint and the heartbeat, then joins through the seeds in the background.</summary>
    public static async Task<ClusterNode> StartAsync(ClusterNodeOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        // Bind first: the address other nodes dial includes the port, which may be chosen by the OS.
        var holder = new StrongBox<ClusterNode>();
        var serverOptions = new GrpcServerOptions
        {
            Host = options.Host,
            Port = options.Port,
            Transport = options.ServerTransport,
            MaxReceiveMessageSize = options.MaxFrameSize,
            MaxSendMessageSize = options.MaxFrameSize,
            LoggerFactory = options.LoggerFactory,
            ShutdownGracePeriod = TimeSpan.FromSeconds(1),
        };
        serverOptions.Services.Add(ServerServiceDefinition.CreateBuilder()
            .AddMethod(ConnectMethod, (requests, responses, context) =>
                holder.Value is { } node ? node.AcceptAsync(requests, responses, context)
                : throw new RpcException(new Status(StatusCode.Unavailable, "The cluster node is still starting.")))
            .Build());
        foreach (ServerServiceDefinition service in options.AdditionalServices) serverOptions.Services.Add(service);
        GrpcServer server = await GrpcServer.StartAsync(serverOptions, cancellationToken).ConfigureAwait(false);

        ClusterNode node;
        try
        {
            node = new ClusterNode(options, PublicHostOf(options), server.Port) { server = server };
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        holder.Value = node;
        node.RemoveOrphanedRings();
        node.logger.LogInformation("Cluster node {Address} (incarnation {Uid:x16}, roles [{Roles}]) listening on {Host}:{Port}; seeds [{Seeds}].",
            node.SelfAddress, node.Uid, string.Join(',', options.Roles), options.Host, server.Port, string.Join(',', node.seeds));
        node.heartbeatTimer = options.TimeProvider.CreateTimer(static state => ((ClusterNode)state!).Tick(), node, options.HeartbeatInterval, options.HeartbeatInterval);
        foreach (Endpoint seed in node.seeds) node.Dial(seed);
        return node;
    }

    /// <summary>Rings of this user's nodes that died between making a ring and their peer mapping it (after that, a ring has no name).</summary>
    private void RemoveOrphanedRings()
    {
        if (options.SharedMemoryDirectory is not { } directory) return;
        try
        {
            int removed = Internal.SharedMemory.RingFile.RemoveOrphans(directory);
            if (removed > 0) logger.LogInformation("Removed {Count} shared-memory rings of processes that no longer run from {Directory}.", removed, directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogDebug(e, "Could not look for orphaned rings in {Directory}.", directory);
        }
    }

    private static string PublicHostOf(ClusterNodeOptions options) => options.PublicHost switch
    {
        { Length: > 0 } host => host,
        _ => options.Host is "*" or "0.0.0.0" or "[::]" or "::" ? Dns.GetHostName() : options.Host,
    };

    private static ulong NewUid()
    {
        Span<byte> bytes = stackalloc byte[8];
        ulong uid;
        do
        {
            RandomNumberGenerator.Fill(bytes);
            uid = BitConverter.ToUInt64(bytes);
        } while (uid == 0);
        return uid;
    }

    /// <summary>A reference to the actor at <paramref name="path"/>: local when the path is this node's, remote otherwise.</summary>
    public IActorRef ActorRefFor(ActorPath path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Resolve(path);
    }

    /// <summary>A reference to the actor at <paramref name="actorPath"/> (e.g. "/user/coordinator") on <paramref name="node"/>.</summary>
    public IActorRef ActorRefFor(Address node, string actorPath)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentException.ThrowIfNullOrWhiteSpace(actorPath);
        ActorPath path = ActorPath.Root(node);
        foreach (string element in actorPath.Split('/', StringSplitOptions.RemoveEmptyEntries)) path /= element;
        return Resolve(path);
    }

    /// <summary>The path other nodes reach <paramref name="actor"/> by (this node's address for local actors).</summary>
    public ActorPath WirePathOf(IActorRef actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (actor is RemoteActorRef || actor.Path.Address.Protocol != Address.LocalProtocol) return actor.Path;
        ActorPath path = selfRoot;
        foreach (string element in actor.Path.Elements) path /= element;
        return path;
    }

    /// <summary>
    /// Tells <paramref name="subscriber"/> the current members (a <see cref="MemberUp"/> each, then
    /// <see cref="MemberUnreachable"/> for those unreachable), then every <see cref="MemberEvent"/> from now on.
    /// </summary>
    public void Subscribe(IActorRef subscriber)
    {
        ArgumentNullException.ThrowIfNull(subscriber);
        lock (membershipGate)
        {
            foreach (Member member in membership.Members) subscriber.Tell(new MemberUp(member), ActorRefs.NoSender);
            foreach (Member member in membership.Unreachable) subscriber.Tell(new MemberUnreachable(member), ActorRefs.NoSender);
            System.EventStream.Subscribe(subscriber, typeof(MemberEvent));
        }
    }

    public void Unsubscribe(IActorRef subscriber) => System.EventStream.Unsubscribe(subscriber);

    string IWireReferences.WirePathOf(IActorRef actor) => WirePathOf(actor).ToString();

    IActorRef IWireReferences.Resolve(string wirePath) => ResolveWire(wirePath);

    /// <summary>Stops the actors, tells the other members this node leaves, then closes every stream and the endpoint.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0) return;
        heartbeatTimer?.Dispose();
        // Actors first: their last messages and death notices still have a transport to go out on.
        await System.Terminate().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await LeaveAsync().ConfigureAwait(false);
        await stopping.CancelAsync().ConfigureAwait(false);
        foreach (Link link in links.Keys) link.Dispose();
        foreach (Association association in associations.Values) await association.DisposeAsync().ConfigureAwait(false);
        rings?.Dispose();
        if (server is not null) await server.DisposeAsync().ConfigureAwait(false);
        foreach (GrpcClient client in clients.Values) client.Dispose();
        stopping.Dispose();
        logger.LogInformation("Cluster node {Address} stopped.", SelfAddress);
    }

    public override string ToString() => $"ClusterNode({SelfAddress})";
}

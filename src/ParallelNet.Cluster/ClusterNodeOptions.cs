using Microsoft.Extensions.Logging;
using ParallelNet.Rpc;

namespace ParallelNet.Cluster;

/// <summary>How a <see cref="ClusterNode"/> listens, whom it joins, how it detects failures and what it refuses.</summary>
public sealed class ClusterNodeOptions
{
    /// <summary>The actor system's name; part of every actor path of the node (letters, digits, '-', '_').</summary>
    public string SystemName { get; set; } = "parallelnet";

    /// <summary>The address to bind: an IP address, "localhost", or "*" / "0.0.0.0" for every interface.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>The TCP port; 0 picks a free one.</summary>
    public int Port { get; set; }

    /// <summary>
    /// The host other nodes dial to reach this one (e.g. a container's service name). Default: <see cref="Host"/>,
    /// or the machine's host name when binding every interface.
    /// </summary>
    public string? PublicHost { get; set; }

    /// <summary>"host:port" of nodes to join through; this node's own address may be among them.</summary>
    public IList<string> Seeds { get; } = new List<string>();

    /// <summary>What this node does (e.g. "coordinator", "worker"); other nodes see them in <see cref="Member.Roles"/>.</summary>
    public IList<string> Roles { get; } = new List<string>();

    /// <summary>Shared by every node of one cluster; a node presenting another token is refused. Empty: only token-less nodes are accepted.</summary>
    public string ClusterToken { get; set; } = "";

    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Silence after which a member is reported unreachable.</summary>
    public TimeSpan UnreachableAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Silence after which a member is removed: watchers of its actors get Terminated, and that incarnation is never let back in.</summary>
    public TimeSpan RemovedAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a dialed node has to answer the handshake (and an accepted one to send it).</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The HTTP/2 server under the node's endpoint. ParallelNet's own (the default) reads each received frame with one
    /// copy fewer and writes the weights it sends straight from their memory; Kestrel remains for comparison.
    /// </summary>
    public GrpcServerTransport ServerTransport { get; set; } = GrpcServerTransport.Http2;

    /// <summary>The largest gRPC message on the cluster stream: a payload up to this size (less room for the paths) travels as one frame. Default 4 MiB.</summary>
    public int MaxFrameSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// Where same-host rings live: a tmpfs, /dev/shm on Linux (the default there; null elsewhere, which turns the path
    /// off). A node whose peer runs on the same machine offers it a ring file there; once the peer has mapped it, payloads
    /// of 64 KiB and more go through the ring and only a small frame on the stream, which spares the socket's two copies
    /// and the HTTP/2 framing. Across hosts, or between containers with a /dev/shm of their own, the peer refuses the
    /// offer and everything stays on the stream. Null: never offer, and refuse offers.
    /// </summary>
    public string? SharedMemoryDirectory { get; set; } = OperatingSystem.IsLinux() && Directory.Exists("/dev/shm") ? "/dev/shm" : null;

    /// <summary>Data bytes of each ring this node offers (one per peer it sends large payloads to), allocated when offered; a payload over half of it stays on the stream. Default 64 MiB.</summary>
    public long SharedMemoryRingBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>The largest actor message accepted after reassembly; longer ones are dropped with a log line. Default 1 GiB.</summary>
    public long MaxMessageSize { get; set; } = 1L << 30;

    /// <summary>Messages waiting for one peer beyond this count are dropped (with a log line), so a dead peer cannot eat memory.</summary>
    public int MaxQueuedMessagesPerPeer { get; set; } = 100_000;

    /// <summary>Payload bytes waiting for one peer beyond which new messages are dropped (with a log line). Default 512 MiB.</summary>
    public long MaxQueuedBytesPerPeer { get; set; } = 512L * 1024 * 1024;

    /// <summary>The clock of heartbeats, the failure detector and timeouts; tests pass a manual one.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Where the node's log lines go (refusals, drops, member changes); nothing is logged when null.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Which message types may cross the wire, and how; this node's own registry (fill it before starting the node).</summary>
    public MessageSerializers Serializers { get; init; } = new();

    /// <summary>More gRPC services on the node's port (e.g. the public JobService on the coordinator).</summary>
    public IList<ServerServiceDefinition> AdditionalServices { get; } = new List<ServerServiceDefinition>();

    /// <summary>The protocol version this node announces and requires; only tests change it, to play an incompatible node.</summary>
    internal uint ProtocolVersion { get; set; } = ClusterNode.ProtocolVersion;

    internal void Validate()
    {
        if (Port is < 0 or > 65535)
            throw new ArgumentOutOfRangeException(nameof(Port), Port, "ClusterNodeOptions.Port must be 0 (pick a free port) or 1-65535.");
        if (HeartbeatInterval <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(HeartbeatInterval), HeartbeatInterval, "ClusterNodeOptions.HeartbeatInterval must be positive (e.g. 1 s).");
        if (UnreachableAfter <= HeartbeatInterval || RemovedAfter <= UnreachableAfter)
            throw new ArgumentOutOfRangeException(nameof(UnreachableAfter),
                $"The failure detector needs HeartbeatInterval < UnreachableAfter < RemovedAfter (e.g. 1 s, 5 s, 10 s); got {HeartbeatInterval}, {UnreachableAfter}, {RemovedAfter}.");
        if (HandshakeTimeout <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(HandshakeTimeout), HandshakeTimeout, "ClusterNodeOptions.HandshakeTimeout must be positive.");
        if (!Enum.IsDefined(ServerTransport))
            throw new ArgumentOutOfRangeException(nameof(ServerTransport), ServerTransport, "ClusterNodeOptions.ServerTransport must be Http2 or Kestrel.");
        if (MaxFrameSize < 128 * 1024)
            throw new ArgumentOutOfRangeException(nameof(MaxFrameSize), MaxFrameSize, "ClusterNodeOptions.MaxFrameSize must be at least 128 KiB (default 4 MiB).");
        if (MaxMessageSize > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(MaxMessageSize), MaxMessageSize, $"ClusterNodeOptions.MaxMessageSize can be at most {Array.MaxLength} bytes (one array).");
        if (MaxMessageSize <= 0 || MaxQueuedMessagesPerPeer <= 0 || MaxQueuedBytesPerPeer <= 0)
            throw new ArgumentOutOfRangeException(nameof(MaxMessageSize), "ClusterNodeOptions.MaxMessageSize, MaxQueuedMessagesPerPeer and MaxQueuedBytesPerPeer must be positive.");
        if (SharedMemoryDirectory is not null && (SharedMemoryRingBytes is < Internal.SharedMemory.RingFile.MinCapacity or > Internal.SharedMemory.RingFile.MaxCapacity || SharedMemoryRingBytes % 64 != 0))
            throw new ArgumentOutOfRangeException(nameof(SharedMemoryRingBytes), SharedMemoryRingBytes, "ClusterNodeOptions.SharedMemoryRingBytes must be 1 MiB-1 GiB, a multiple of 64 (default 64 MiB).");
        foreach (string seed in Seeds) _ = Internal.Endpoint.Parse(seed);
        ArgumentNullException.ThrowIfNull(TimeProvider);
    }
}

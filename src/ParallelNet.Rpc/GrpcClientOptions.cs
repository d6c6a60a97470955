using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using ParallelNet.Rpc.Internal;

namespace ParallelNet.Rpc;

/// <summary>Limits and transport settings of a <see cref="GrpcClient"/>.</summary>
public sealed class GrpcClientOptions
{
    /// <summary>The largest response message accepted; bigger ones fail the call with RESOURCE_EXHAUSTED. Default 4 MiB.</summary>
    public int MaxReceiveMessageSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>The largest request message sent; null means no limit.</summary>
    public int? MaxSendMessageSize { get; set; }

    /// <summary>HTTP/2 receive window per stream (at most 16 MiB, SocketsHttpHandler's ceiling).</summary>
    public int Http2StreamWindowSize { get; set; } = 16 * 1024 * 1024;

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Which HTTP/2 client carries the calls: ParallelNet's own (large frames and windows, at most one copy of a received
    /// message) or .NET's SocketsHttpHandler.
    /// </summary>
    public GrpcClientTransport Transport { get; set; } = GrpcClientTransport.Native;

    /// <summary>
    /// How long a connection with calls in flight may be silent before the client pings the server; a server that
    /// does not answer within <see cref="KeepAlivePingTimeout"/> fails the calls with UNAVAILABLE. Off (infinite) by
    /// default because grpc C-core servers answer pings more often than every 5 minutes with GOAWAY
    /// (ENHANCE_YOUR_CALM) unless configured otherwise; ParallelNet servers accept any interval.
    /// </summary>
    public TimeSpan KeepAlivePingDelay { get; set; } = Timeout.InfiniteTimeSpan;

    public TimeSpan KeepAlivePingTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Decides whether to trust the server's TLS certificate (e.g. a self-signed cluster certificate);
    /// null uses the system's normal validation.
    /// </summary>
    public Func<X509Certificate?, X509Chain?, SslPolicyErrors, bool>? ServerCertificateValidator { get; set; }

    internal void Validate()
    {
        if (!Enum.IsDefined(Transport))
            throw new ArgumentOutOfRangeException(nameof(Transport), Transport, "GrpcClientOptions.Transport must be Native or SocketsHttpHandler.");
        if (MaxReceiveMessageSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(MaxReceiveMessageSize), MaxReceiveMessageSize, "GrpcClientOptions.MaxReceiveMessageSize must be positive (bytes; default 4 MiB).");
        if (MaxSendMessageSize is <= 0)
            throw new ArgumentOutOfRangeException(nameof(MaxSendMessageSize), MaxSendMessageSize, "GrpcClientOptions.MaxSendMessageSize must be positive, or null for no limit.");
        if (Http2StreamWindowSize is < 65_535 or > 16 * 1024 * 1024)
            throw new ArgumentOutOfRangeException(nameof(Http2StreamWindowSize), Http2StreamWindowSize, "GrpcClientOptions.Http2StreamWindowSize must be between 65535 and 16 MiB.");
        KeepAliveValidation.Check(KeepAlivePingDelay, nameof(KeepAlivePingDelay), "GrpcClientOptions");
        KeepAliveValidation.Check(KeepAlivePingTimeout, nameof(KeepAlivePingTimeout), "GrpcClientOptions");
        if (ConnectTimeout <= TimeSpan.Zero && ConnectTimeout != Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(nameof(ConnectTimeout), ConnectTimeout, "GrpcClientOptions.ConnectTimeout must be positive or infinite.");
    }
}

/// <summary>The HTTP/2 client under a <see cref="GrpcClient"/>.</summary>
public enum GrpcClientTransport
{
    /// <summary>ParallelNet's own HTTP/2 client: 1 MiB frames both ways, received messages read straight into their buffers.</summary>
    Native,

    /// <summary>.NET's SocketsHttpHandler (16 KiB frames from the server, several copies per received byte).</summary>
    SocketsHttpHandler,
}

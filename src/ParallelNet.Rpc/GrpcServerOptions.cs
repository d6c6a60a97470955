using Microsoft.Extensions.Logging;
using ParallelNet.Rpc.Internal;

namespace ParallelNet.Rpc;

/// <summary>How a <see cref="GrpcServer"/> listens, what it hosts and which limits it enforces.</summary>
public sealed class GrpcServerOptions
{
    /// <summary>The address to bind: an IP address, "localhost", or "*" / "0.0.0.0" for every interface.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>The TCP port; 0 picks a free one (read it back from <see cref="GrpcServer.Port"/>).</summary>
    public int Port { get; set; }

    /// <summary>
    /// Which HTTP/2 server carries the calls: our own (the default), which reads large request messages from the socket
    /// straight into their buffers and sends responses straight from the messages' memory, or ASP.NET Core's Kestrel.
    /// </summary>
    public GrpcServerTransport Transport { get; set; } = GrpcServerTransport.Http2;

    /// <summary>A PKCS#12 (.pfx) certificate file; when set the server speaks TLS (h2 via ALPN) instead of h2c.</summary>
    public string? CertificatePath { get; set; }

    public string? CertificatePassword { get; set; }

    /// <summary>The largest request message accepted; bigger ones end the call with RESOURCE_EXHAUSTED. Default 4 MiB.</summary>
    public int MaxReceiveMessageSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>The largest response message sent; null means no limit.</summary>
    public int? MaxSendMessageSize { get; set; }

    /// <summary>HTTP/2 flow-control window per stream: large windows keep big messages flowing without waiting on WINDOW_UPDATE.</summary>
    public int Http2StreamWindowSize { get; set; } = 16 * 1024 * 1024;

    /// <summary>HTTP/2 flow-control window per connection; at least the stream window.</summary>
    public int Http2ConnectionWindowSize { get; set; } = 32 * 1024 * 1024;

    /// <summary>
    /// How long a connection may be silent before the server pings the client (HTTP/2 PING); a client that does not
    /// answer within <see cref="KeepAlivePingTimeout"/> is dropped and its calls are cancelled. This is what notices a
    /// peer that vanished without closing its TCP connection under a long-lived stream. Infinite turns pings off.
    /// </summary>
    public TimeSpan KeepAlivePingDelay { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan KeepAlivePingTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Runs before every handler (health and reflection included); throw an RpcException to refuse the call.</summary>
    public Func<ServerCallContext, Task>? Interceptor { get; set; }

    public IList<ServerServiceDefinition> Services { get; } = new List<ServerServiceDefinition>();

    /// <summary>Host grpc.health.v1.Health (on by default).</summary>
    public bool EnableHealthService { get; set; } = true;

    /// <summary>Host server reflection v1 and v1alpha (on by default).</summary>
    public bool EnableReflectionService { get; set; } = true;

    /// <summary>How long StopAsync lets calls in flight finish before cancelling them.</summary>
    public TimeSpan ShutdownGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Where handler exceptions and Kestrel's messages go; nothing is logged when null.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    internal void Validate()
    {
        if (!Enum.IsDefined(Transport))
            throw new ArgumentOutOfRangeException(nameof(Transport), Transport, "GrpcServerOptions.Transport must be Kestrel or Http2.");
        if (string.IsNullOrWhiteSpace(Host))
            throw new ArgumentException("GrpcServerOptions.Host is empty: give an IP address, \"localhost\" or \"*\".");
        if (Port is < 0 or > 65535)
            throw new ArgumentOutOfRangeException(nameof(Port), Port, "GrpcServerOptions.Port must be 0 (pick a free port) or 1-65535.");
        if (MaxReceiveMessageSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(MaxReceiveMessageSize), MaxReceiveMessageSize, "GrpcServerOptions.MaxReceiveMessageSize must be positive (bytes; default 4 MiB).");
        if (MaxSendMessageSize is <= 0)
            throw new ArgumentOutOfRangeException(nameof(MaxSendMessageSize), MaxSendMessageSize, "GrpcServerOptions.MaxSendMessageSize must be positive, or null for no limit.");
        if (Http2StreamWindowSize < 65_535 || Http2ConnectionWindowSize < Http2StreamWindowSize)
            throw new ArgumentOutOfRangeException(nameof(Http2StreamWindowSize), $"HTTP/2 windows must be at least 65535 bytes and the connection window at least the stream window; got stream {Http2StreamWindowSize}, connection {Http2ConnectionWindowSize}.");
        KeepAliveValidation.Check(KeepAlivePingDelay, nameof(KeepAlivePingDelay), "GrpcServerOptions");
        KeepAliveValidation.Check(KeepAlivePingTimeout, nameof(KeepAlivePingTimeout), "GrpcServerOptions");
        if (ShutdownGracePeriod < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(ShutdownGracePeriod), ShutdownGracePeriod, "GrpcServerOptions.ShutdownGracePeriod cannot be negative.");
        if (CertificatePath is not null && !File.Exists(CertificatePath))
            throw new FileNotFoundException($"TLS certificate '{CertificatePath}' does not exist; set GrpcServerOptions.CertificatePath to a .pfx file or leave it null for h2c.", CertificatePath);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var service in Services)
            if (!names.Add(service.Name))
                throw new ArgumentException($"Service '{service.Name}' is registered twice in GrpcServerOptions.Services.");
    }
}

/// <summary>The HTTP/2 server under a <see cref="GrpcServer"/>.</summary>
public enum GrpcServerTransport
{
    /// <summary>ASP.NET Core's Kestrel: h2c or TLS.</summary>
    Kestrel,

    /// <summary>ParallelNet's own HTTP/2 layer on a socket (shared with the client): h2c with prior knowledge, or TLS with ALPN h2.</summary>
    Http2,
}

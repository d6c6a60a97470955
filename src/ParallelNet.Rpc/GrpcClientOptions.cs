using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

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
    /// Decides whether to trust the server's TLS certificate (e.g. a self-signed cluster certificate);
    /// null uses the system's normal validation.
    /// </summary>
    public Func<X509Certificate?, X509Chain?, SslPolicyErrors, bool>? ServerCertificateValidator { get; set; }

    internal void Validate()
    {
        if (MaxReceiveMessageSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(MaxReceiveMessageSize), MaxReceiveMessageSize, "GrpcClientOptions.MaxReceiveMessageSize must be positive (bytes; default 4 MiB).");
        if (MaxSendMessageSize is <= 0)
            throw new ArgumentOutOfRangeException(nameof(MaxSendMessageSize), MaxSendMessageSize, "GrpcClientOptions.MaxSendMessageSize must be positive, or null for no limit.");
        if (Http2StreamWindowSize is < 65_535 or > 16 * 1024 * 1024)
            throw new ArgumentOutOfRangeException(nameof(Http2StreamWindowSize), Http2StreamWindowSize, "GrpcClientOptions.Http2StreamWindowSize must be between 65535 and 16 MiB.");
        if (ConnectTimeout <= TimeSpan.Zero && ConnectTimeout != Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(nameof(ConnectTimeout), ConnectTimeout, "GrpcClientOptions.ConnectTimeout must be positive or infinite.");
    }
}

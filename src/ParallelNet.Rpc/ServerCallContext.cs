using ParallelNet.Rpc.Internal;

namespace ParallelNet.Rpc;

/// <summary>What a handler (and the server's interceptor) knows about the call it serves.</summary>
public sealed class ServerCallContext
{
    private readonly ServerCall _call;

    internal ServerCallContext(ServerCall call, string method, string host, string peer, DateTime deadline, Metadata requestHeaders, CancellationToken cancellationToken)
    {
        _call = call;
        Method = method;
        Host = host;
        Peer = peer;
        Deadline = deadline;
        RequestHeaders = requestHeaders;
        CancellationToken = cancellationToken;
    }

    /// <summary>The method's path, e.g. /grpc.health.v1.Health/Check.</summary>
    public string Method { get; }

    /// <summary>The :authority the client addressed.</summary>
    public string Host { get; }

    /// <summary>The caller's address, as "ipv4:127.0.0.1:5000" or "ipv6:[::1]:5000".</summary>
    public string Peer { get; }

    /// <summary>When the caller stops waiting, in UTC; DateTime.MaxValue when it set no deadline.</summary>
    public DateTime Deadline { get; }

    /// <summary>The caller's metadata; "-bin" entries are already base64-decoded.</summary>
    public Metadata RequestHeaders { get; }

    /// <summary>Cancelled when the caller cancels or vanishes, the deadline passes, or the server stops.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>Trailers sent with the final status.</summary>
    public Metadata ResponseTrailers { get; } = new();

    /// <summary>The status sent when the handler returns normally (OK unless the handler sets another).</summary>
    public Status Status { get; set; } = Status.DefaultSuccess;

    /// <summary>State shared between the interceptor and the handler, e.g. who the bearer token identified.</summary>
    public IDictionary<object, object> UserState { get; } = new Dictionary<object, object>();

    /// <summary>Sends response headers now; at most once, and before the first response message.</summary>
    public Task WriteResponseHeadersAsync(Metadata responseHeaders)
    {
        ArgumentNullException.ThrowIfNull(responseHeaders);
        return _call.WriteResponseHeadersAsync(responseHeaders);
    }
}

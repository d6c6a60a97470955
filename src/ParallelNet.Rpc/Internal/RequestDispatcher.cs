using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ParallelNet.Rpc.Internal;

/// <summary>Kestrel's only middleware and our own HTTP/2 server's call entry: checks that a request is gRPC and hands it to the method's handler.</summary>
internal sealed class RequestDispatcher(IEnumerable<ServerServiceDefinition> services, GrpcServerOptions options, ILogger logger, CancellationToken callsCancelled)
{
    private readonly Dictionary<string, (ServerMethodHandler Handler, MessageSizeLimits Limits)> _handlers = services
        .SelectMany(s => s.Handlers.Select(pair => (Path: pair.Key, pair.Value, Limits: new MessageSizeLimits(
            s.MaxReceiveMessageSize ?? options.MaxReceiveMessageSize, s.MaxSendMessageSize ?? options.MaxSendMessageSize))))
        .ToDictionary(entry => entry.Path, entry => (entry.Value, entry.Limits), StringComparer.Ordinal);

    /// <summary>Kestrel's entry point.</summary>
    public Task DispatchAsync(HttpContext http) => DispatchAsync(new KestrelCallTransport(http));

    /// <summary>Checks that a request is gRPC and runs the method's handler on it, whichever transport carries it.</summary>
    public async Task DispatchAsync(IServerCallTransport transport)
    {
        if (!string.Equals(transport.HttpMethod, "POST", StringComparison.Ordinal))
        {
            await transport.RespondHttpErrorAsync(StatusCodes.Status405MethodNotAllowed).ConfigureAwait(false);
            return;
        }
        var contentType = transport.GetRequestHeader("content-type");
        if (!GrpcProtocol.IsGrpcContentType(contentType))
        {
            // grpc-status as well, so gRPC clients see a status and others see the HTTP error.
            await RejectAsync(transport, StatusCode.Internal, $"Content-Type '{contentType}' is not supported; gRPC requests use application/grpc.",
                StatusCodes.Status415UnsupportedMediaType).ConfigureAwait(false);
            return;
        }
        var path = transport.Path;
        if (!_handlers.TryGetValue(path, out var method))
        {
            await RejectAsync(transport, StatusCode.Unimplemented, $"Method '{path}' is not implemented by this server.").ConfigureAwait(false);
            return;
        }
        var encoding = transport.GetRequestHeader(GrpcProtocol.EncodingHeader) ?? "";
        if (encoding.Length > 0 && !encoding.Equals(GrpcProtocol.IdentityEncoding, StringComparison.OrdinalIgnoreCase))
        {
            await RejectAsync(transport, StatusCode.Unimplemented, $"Message encoding '{encoding}' is not supported; this server accepts identity only.",
                extraHeaders: [(GrpcProtocol.AcceptEncodingHeader, GrpcProtocol.IdentityEncoding)]).ConfigureAwait(false);
            return;
        }

        using var call = new ServerCall(transport, options, method.Limits, logger, callsCancelled);
        await call.RunAsync(method.Handler, path).ConfigureAwait(false);
    }

    /// <summary>The limits one method enforces: its service's own, else the server's.</summary>
    internal readonly record struct MessageSizeLimits(int MaxReceive, int? MaxSend);

    private static Task RejectAsync(IServerCallTransport transport, StatusCode status, string message, int httpStatus = StatusCodes.Status200OK,
        IReadOnlyList<(string Name, string Value)>? extraHeaders = null) =>
        transport.CompleteAsync(new Status(status, message), new Metadata(), headersSent: false, httpStatus, extraHeaders);
}

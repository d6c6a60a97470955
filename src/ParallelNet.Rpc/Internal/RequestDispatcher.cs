using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ParallelNet.Rpc.Internal;

/// <summary>Kestrel's only middleware: checks that a request is gRPC and hands it to the method's handler.</summary>
internal sealed class RequestDispatcher(IEnumerable<ServerServiceDefinition> services, GrpcServerOptions options, ILogger logger, CancellationToken callsCancelled)
{
    private readonly Dictionary<string, (ServerMethodHandler Handler, MessageSizeLimits Limits)> _handlers = services
        .SelectMany(s => s.Handlers.Select(pair => (Path: pair.Key, pair.Value, Limits: new MessageSizeLimits(
            s.MaxReceiveMessageSize ?? options.MaxReceiveMessageSize, s.MaxSendMessageSize ?? options.MaxSendMessageSize))))
        .ToDictionary(entry => entry.Path, entry => (entry.Value, entry.Limits), StringComparer.Ordinal);

    public async Task DispatchAsync(HttpContext http)
    {
        var request = http.Request;
        if (!HttpMethods.IsPost(request.Method))
        {
            http.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            return;
        }
        if (!GrpcProtocol.IsGrpcContentType(request.ContentType))
        {
            // grpc-status as well, so gRPC clients see a status and others see the HTTP error.
            http.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            WriteTrailersOnly(http, StatusCode.Internal, $"Content-Type '{request.ContentType}' is not supported; gRPC requests use application/grpc.");
            return;
        }
        var path = request.Path.Value ?? "";
        if (!_handlers.TryGetValue(path, out var method))
        {
            WriteTrailersOnly(http, StatusCode.Unimplemented, $"Method '{path}' is not implemented by this server.");
            return;
        }
        var encoding = request.Headers[GrpcProtocol.EncodingHeader].ToString();
        if (encoding.Length > 0 && !encoding.Equals(GrpcProtocol.IdentityEncoding, StringComparison.OrdinalIgnoreCase))
        {
            http.Response.Headers[GrpcProtocol.AcceptEncodingHeader] = GrpcProtocol.IdentityEncoding;
            WriteTrailersOnly(http, StatusCode.Unimplemented, $"Message encoding '{encoding}' is not supported; this server accepts identity only.");
            return;
        }

        using var call = new ServerCall(http, options, method.Limits, logger, callsCancelled);
        await call.RunAsync(method.Handler, path).ConfigureAwait(false);
    }

    /// <summary>The limits one method enforces: its service's own, else the server's.</summary>
    internal readonly record struct MessageSizeLimits(int MaxReceive, int? MaxSend);

    private static void WriteTrailersOnly(HttpContext http, StatusCode status, string message)
    {
        if (http.Response.StatusCode == 0) http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = GrpcProtocol.ContentType;
        http.Response.Headers[GrpcProtocol.StatusHeader] = ((int)status).ToString(CultureInfo.InvariantCulture);
        http.Response.Headers[GrpcProtocol.MessageHeader] = GrpcProtocol.PercentEncode(message);
    }
}

using System.Globalization;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;

namespace ParallelNet.Rpc.Internal;

/// <summary>A gRPC call's HTTP/2 stream as Kestrel presents it.</summary>
internal sealed class KestrelCallTransport(HttpContext http) : IServerCallTransport
{
    public string HttpMethod => http.Request.Method;

    public string Path => http.Request.Path.Value ?? "";

    public string Authority => http.Request.Host.Value ?? "";

    public string Peer => GrpcProtocol.FormatPeer(http.Connection.RemoteIpAddress, http.Connection.RemotePort);

    public CancellationToken ClientGone => http.RequestAborted;

    public string? GetRequestHeader(string name) => http.Request.Headers.TryGetValue(name, out var values) && values.Count > 0 ? values[0] : null;

    public Metadata ReadRequestMetadata()
    {
        var metadata = new Metadata();
        foreach (var (name, values) in http.Request.Headers)
            foreach (var value in values)
                if (value is not null) GrpcProtocol.AddToMetadata(metadata, name, value);
        return metadata;
    }

    public ValueTask<T?> ReadMessageAsync<T>(MessageParser<T> parser, int maxMessageSize, CancellationToken cancellationToken, LentReceiveBuffer? lent)
        where T : class, IMessage<T> =>
        PipeMessageFraming.ReadMessageAsync(http.Request.BodyReader, parser, maxMessageSize, cancellationToken, lent);

    public async Task SendHeadersAsync(Metadata metadata)
    {
        AddMetadata(http.Response.Headers, metadata);
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = GrpcProtocol.ContentType;
        await http.Response.StartAsync().ConfigureAwait(false);
    }

    public async ValueTask<bool> WriteMessageAsync(IMessage message, int? maxMessageSize, CancellationToken cancellationToken)
    {
        PipeMessageFraming.WriteMessage(http.Response.BodyWriter, message, maxMessageSize);
        var flush = await http.Response.BodyWriter.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (flush.IsCanceled) throw new OperationCanceledException("The response write was cancelled.", cancellationToken);
        return !flush.IsCompleted;
    }

    public async Task CompleteAsync(Status status, Metadata trailers, bool headersSent, int httpStatus = 200, IReadOnlyList<(string Name, string Value)>? extraHeaders = null)
    {
        if (http.RequestAborted.IsCancellationRequested) return;
        var code = ((int)status.StatusCode).ToString(CultureInfo.InvariantCulture);
        var message = GrpcProtocol.PercentEncode(status.Detail);
        var response = http.Response;
        if (!headersSent)
        {
            var headers = response.Headers;
            response.StatusCode = httpStatus;
            response.ContentType = GrpcProtocol.ContentType;
            headers[GrpcProtocol.StatusHeader] = code;
            if (message.Length > 0) headers[GrpcProtocol.MessageHeader] = message;
            foreach (var (name, value) in extraHeaders ?? []) headers[name] = value;
            AddMetadata(headers, trailers);
        }
        else
        {
            response.AppendTrailer(GrpcProtocol.StatusHeader, code);
            if (message.Length > 0) response.AppendTrailer(GrpcProtocol.MessageHeader, message);
            foreach (var entry in trailers)
                response.AppendTrailer(entry.Key, entry.IsBinary ? GrpcProtocol.EncodeBase64(entry.ValueBytes) : entry.Value);
        }
        await response.CompleteAsync().ConfigureAwait(false);
    }

    public Task RespondHttpErrorAsync(int httpStatus)
    {
        http.Response.StatusCode = httpStatus;
        return Task.CompletedTask;
    }

    private static void AddMetadata(IHeaderDictionary headers, Metadata metadata)
    {
        foreach (var entry in metadata)
            headers.Append(entry.Key, entry.IsBinary ? GrpcProtocol.EncodeBase64(entry.ValueBytes) : entry.Value);
    }
}

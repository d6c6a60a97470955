using System.Net;

namespace ParallelNet.Rpc.Internal.Http2;

/// <summary>
/// An HttpMessageHandler on our own HTTP/2 connections (<see cref="Http2Connection"/>), so the gRPC call logic stays
/// the same whichever transport the client uses. Opens another connection when the existing ones are full (the
/// server's SETTINGS_MAX_CONCURRENT_STREAMS) or going away.
/// </summary>
internal sealed class Http2Handler(Http2ConnectionSettings settings) : HttpMessageHandler
{
    private static readonly HashSet<string> ConnectionSpecificHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "host", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade",
    };

    private readonly object _lock = new();
    private readonly List<Http2Connection> _connections = [];
    private readonly CancellationTokenSource _disposing = new();
    private Task<Http2Connection>? _connecting;
    private bool _disposed;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var address = request.RequestUri ?? throw new InvalidOperationException("The request has no URI.");
        var headerBlock = EncodeRequestHeaders(request);
        var content = request.Content;
        Http2Stream? stream = null;
        Http2Connection? connection = null;
        for (var attempt = 0; stream is null; attempt++)
        {
            if (attempt == 100) throw new HttpRequestException(HttpRequestError.ConnectionError, $"No connection to {address.Authority} would take a new stream.");
            connection = await GetConnectionAsync(address, cancellationToken).ConfigureAwait(false);
            stream = await connection.TryStartStreamAsync(request, headerBlock, endStream: content is null, cancellationToken).ConfigureAwait(false);
        }
        if (cancellationToken.CanBeCanceled)
            stream.CancelRegistration = cancellationToken.Register(static state =>
            {
                var (s, token) = ((Http2Stream, CancellationToken))state!;
                s.Connection.ResetStream(s, Http2ErrorCode.Cancel, new OperationCanceledException("The call was cancelled.", token));
            }, (stream, cancellationToken));
        if (content is not null) _ = SendBodyAsync(connection!, stream, content, cancellationToken);
        return await stream.Response.ConfigureAwait(false);
    }

    private static async Task SendBodyAsync(Http2Connection connection, Http2Stream stream, HttpContent content, CancellationToken cancellationToken)
    {
        try
        {
            await content.CopyToAsync(new Http2RequestBodyStream(stream), cancellationToken).ConfigureAwait(false);
            await connection.EndRequestAsync(stream).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The stream or connection already carries the reason when they failed; otherwise the body's own error ends the stream.
            if (!stream.IsResponseEnded) connection.ResetStream(stream, Http2ErrorCode.Cancel, ex);
        }
    }

    private async Task<Http2Connection> GetConnectionAsync(Uri address, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            Task<Http2Connection> connecting;
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                foreach (var existing in _connections)
                    if (existing.CanStartStream) return existing;
                // A finished attempt (even one that completed synchronously) gave a connection that is full or gone by now.
                if (_connecting is null || _connecting.IsCompleted) _connecting = ConnectAsync(address);
                connecting = _connecting;
            }
            var connection = await connecting.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (connection.CanStartStream) return connection;
            if (attempt == 5)
                throw new HttpRequestException(HttpRequestError.ConnectionError, $"The server at {address.Authority} closed every new connection before a call could start.");
        }
    }

    private async Task<Http2Connection> ConnectAsync(Uri address)
    {
        var connection = await Http2Connection.ConnectAsync(address, settings, OnConnectionClosed, _disposing.Token).ConfigureAwait(false);
        bool disposed;
        lock (_lock)
        {
            disposed = _disposed;
            if (!disposed && !connection.IsClosed) _connections.Add(connection);
        }
        if (disposed) await connection.DisposeAsync().ConfigureAwait(false);
        return connection;
    }

    private void OnConnectionClosed(Http2Connection connection)
    {
        lock (_lock) _connections.Remove(connection);
    }

    /// <summary>The request's pseudo-headers and headers as one HPACK block (see <see cref="HpackEncoder"/>).</summary>
    internal static byte[] EncodeRequestHeaders(HttpRequestMessage request)
    {
        var uri = request.RequestUri!;
        var block = new List<byte>(256);
        if (request.Method == HttpMethod.Post) HpackEncoder.WriteIndexed(block, HpackStaticTable.MethodPost);
        else HpackEncoder.WriteLiteral(block, 2, request.Method.Method);
        HpackEncoder.WriteIndexed(block, uri.Scheme == Uri.UriSchemeHttps ? HpackStaticTable.SchemeHttps : HpackStaticTable.SchemeHttp);
        HpackEncoder.WriteLiteral(block, HpackStaticTable.Path, uri.PathAndQuery);
        HpackEncoder.WriteLiteral(block, HpackStaticTable.Authority, uri.Authority);
        AddHeaders(block, request.Headers.NonValidated);
        if (request.Content is not null) AddHeaders(block, request.Content.Headers.NonValidated);
        return [.. block];
    }

    private static void AddHeaders(List<byte> block, System.Net.Http.Headers.HttpHeadersNonValidated headers)
    {
        foreach (var (name, values) in headers)
        {
            if (ConnectionSpecificHeaders.Contains(name)) continue;
            var lower = name.ToLowerInvariant();
            foreach (var value in values)
            {
                // HTTP/2 allows "te" only as "trailers" (RFC 9113 8.2.2).
                if (lower == "te" && !value.Equals("trailers", StringComparison.OrdinalIgnoreCase)) continue;
                HpackEncoder.WriteLiteral(block, lower, value);
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            List<Http2Connection> connections;
            lock (_lock)
            {
                if (_disposed) return;
                _disposed = true;
                connections = [.. _connections];
                _connections.Clear();
            }
            _disposing.Cancel();
            foreach (var connection in connections) connection.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        base.Dispose(disposing);
    }
}

using Google.Protobuf;

namespace ParallelNet.Rpc.Internal;

/// <summary>
/// What a <see cref="ServerCall"/> needs from the HTTP/2 stream it runs on, so that the same call logic (deadlines,
/// cancellation, exactly one status) runs on Kestrel and on our own HTTP/2 server.
/// </summary>
internal interface IServerCallTransport
{
    string HttpMethod { get; }

    string Path { get; }

    /// <summary>The :authority the client addressed.</summary>
    string Authority { get; }

    /// <summary>The caller's address, as "ipv4:127.0.0.1:5000" or "ipv6:[::1]:5000".</summary>
    string Peer { get; }

    /// <summary>Cancelled when the client resets the stream or its connection ends.</summary>
    CancellationToken ClientGone { get; }

    /// <summary>The first value of a request header; null when absent.</summary>
    string? GetRequestHeader(string name);

    /// <summary>The request headers as gRPC metadata ("-bin" values decoded, reserved headers left out).</summary>
    Metadata ReadRequestMetadata();

    /// <summary>Reads one request message; null at a clean end of the request stream.</summary>
    ValueTask<T?> ReadMessageAsync<T>(MessageParser<T> parser, int maxMessageSize, CancellationToken cancellationToken, LentReceiveBuffer? lent)
        where T : class, IMessage<T>;

    /// <summary>Sends the response headers (:status 200, content-type) with the given metadata.</summary>
    Task SendHeadersAsync(Metadata metadata);

    /// <summary>Sends one response message; false when the client's stream or connection is gone.</summary>
    ValueTask<bool> WriteMessageAsync(IMessage message, int? maxMessageSize, CancellationToken cancellationToken);

    /// <summary>
    /// Ends the response with the status: as trailers after sent headers, or as a Trailers-Only response
    /// (<paramref name="httpStatus"/> and <paramref name="extraHeaders"/> only matter there).
    /// </summary>
    Task CompleteAsync(Status status, Metadata trailers, bool headersSent, int httpStatus = 200, IReadOnlyList<(string Name, string Value)>? extraHeaders = null);

    /// <summary>Answers a request that is not gRPC at all with a bare HTTP status.</summary>
    Task RespondHttpErrorAsync(int httpStatus);
}

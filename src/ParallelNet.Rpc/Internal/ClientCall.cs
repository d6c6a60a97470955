using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;

namespace ParallelNet.Rpc.Internal;

/// <summary>What the public call wrappers need from a call, whatever its message types.</summary>
internal interface IClientCall : IDisposable
{
    Task<Metadata> ResponseHeadersAsync { get; }
    Status GetStatus();
    Metadata GetTrailers();
}

/// <summary>
/// One gRPC call on the client: an HTTP/2 request whose body carries the request messages and whose
/// response body and trailers carry the responses and the status. The status is decided once, by the
/// first of: the server's trailers (or Trailers-Only headers), the deadline, the caller's cancellation,
/// a local limit, or a transport failure.
/// </summary>
internal sealed class ClientCall<TRequest, TResponse> : IClientCall, IAsyncStreamReader<TResponse>, IClientStreamWriter<TRequest>
    where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>
{
    private readonly GrpcClient _client;
    private readonly Method<TRequest, TResponse> _method;
    private readonly CallOptions _options;
    private readonly CancellationTokenSource _callSource = new();
    private readonly CancellationTokenSource? _deadlineSource;
    private readonly TaskCompletionSource<Metadata> _headers = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<Status> _status = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenRegistration _userCancellation;
    private CancellationTokenRegistration _deadlineRegistration;
    private Metadata _trailers = new();
    private HttpResponseMessage? _response;
    private Stream? _responseStream;
    private Task<bool> _responseStarted = Task.FromResult(false);
    private RequestStreamContent? _requestStream;
    private readonly LentReceiveBuffer? _lent;
    private TResponse? _current;
    private int _writing;
    private bool _requestCompleted;

    public ClientCall(GrpcClient client, Method<TRequest, TResponse> method, CallOptions options)
    {
        _client = client;
        _method = method;
        _options = options;
        if (options.Deadline is { } deadline && deadline != DateTime.MaxValue)
            _deadlineSource = new CancellationTokenSource();
        if (method.LendsReceivedBytes) _lent = new LentReceiveBuffer();
    }

    public Task<Metadata> ResponseHeadersAsync => _headers.Task;

    public TResponse Current => _current ?? throw new InvalidOperationException("No current message: call MoveNext first and use Current only when it returned true.");

    public void StartWithSingleRequest(TRequest request)
    {
        FramedMessage framed;
        try
        {
            framed = FramedMessage.Create(request, _client.Options.MaxSendMessageSize);
        }
        catch (RpcException ex)
        {
            Finish(ex.Status, new Metadata());
            return;
        }
        Start(new SingleMessageContent(framed));
    }

    public void StartWithRequestStream()
    {
        _requestStream = new RequestStreamContent();
        Start(_requestStream);
    }

    private void Start(HttpContent content)
    {
        TimeSpan? timeout = null;
        if (_deadlineSource is not null)
        {
            var remaining = _options.Deadline!.Value.ToUniversalTime() - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero)
            {
                content.Dispose();
                Finish(new Status(StatusCode.DeadlineExceeded, "Deadline exceeded before the call started."), new Metadata());
                return;
            }
            timeout = remaining;
        }
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_client.Address, _method.FullName))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        content.Headers.ContentType = new MediaTypeHeaderValue(GrpcProtocol.ContentType);
        request.Headers.TE.Add(new TransferCodingWithQualityHeaderValue("trailers"));
        request.Headers.TryAddWithoutValidation("user-agent", "grpc-parallelnet/1.0");
        if (timeout is { } t) request.Headers.TryAddWithoutValidation(GrpcProtocol.TimeoutHeader, GrpcProtocol.FormatTimeout(t));
        if (_options.Headers is { } headers)
            foreach (var entry in headers)
                request.Headers.TryAddWithoutValidation(entry.Key, entry.IsBinary ? GrpcProtocol.EncodeBase64(entry.ValueBytes) : entry.Value);

        if (_options.CancellationToken.CanBeCanceled)
            _userCancellation = _options.CancellationToken.Register(() => Finish(new Status(StatusCode.Cancelled, "Call cancelled by the client."), new Metadata()));
        // Timers stop at int.MaxValue milliseconds (24.8 days); the server still gets the full grpc-timeout.
        if (_deadlineSource is not null && timeout!.Value.TotalMilliseconds < int.MaxValue)
        {
            _deadlineRegistration = _deadlineSource.Token.Register(() => Finish(new Status(StatusCode.DeadlineExceeded, "Deadline exceeded."), new Metadata()));
            _deadlineSource.CancelAfter(timeout.Value);
        }
        _responseStarted = SendAsync(request);
    }

    /// <summary>Sends the request and takes in the response headers; false when the call already has its status.</summary>
    private async Task<bool> SendAsync(HttpRequestMessage request)
    {
        try
        {
            var response = await _client.Invoker.SendAsync(request, _callSource.Token).ConfigureAwait(false);
            _response = response;
            var headers = ToMetadata(response.Headers);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                var status = StatusFromHeaders(response.Headers) ?? new Status(GrpcProtocol.StatusFromHttpStatus(response.StatusCode),
                    $"Bad gRPC response. HTTP status code: {(int)response.StatusCode}");
                _headers.TrySetResult(headers);
                Finish(status, headers);
                return false;
            }
            if (StatusFromHeaders(response.Headers) is { } trailersOnly)
            {
                _headers.TrySetResult(headers);
                Finish(trailersOnly, headers);
                return false;
            }
            var contentType = response.Content.Headers.ContentType?.ToString();
            if (!GrpcProtocol.IsGrpcContentType(contentType))
            {
                _headers.TrySetResult(headers);
                Finish(new Status(StatusCode.Internal, $"Bad gRPC response. Invalid content-type value: {contentType}"), headers);
                return false;
            }
            _responseStream = await response.Content.ReadAsStreamAsync(_callSource.Token).ConfigureAwait(false);
            _headers.TrySetResult(headers);
            return true;
        }
        catch (Exception ex)
        {
            var status = Finish(StatusFromException(ex, "Error starting gRPC call"), new Metadata());
            _headers.TrySetException(new RpcException(status, new Metadata(), ex));
            return false;
        }
    }

    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        _lent?.Release();
        _current = await ReadNextAsync(cancellationToken, _lent).ConfigureAwait(false);
        return _current is not null;
    }

    public async Task<TResponse> ReadSingleResponseAsync()
    {
        var response = await ReadNextAsync(default).ConfigureAwait(false)
            ?? throw new RpcException(Finish(new Status(StatusCode.Internal, "Failed to deserialize response message: the call ended OK without one."), new Metadata()));
        if (await ReadNextAsync(default).ConfigureAwait(false) is not null)
            throw new RpcException(Finish(new Status(StatusCode.Internal, "The server sent more than one response message to a call that takes one."), new Metadata()));
        return response;
    }

    private async Task<TResponse?> ReadNextAsync(CancellationToken cancellationToken, LentReceiveBuffer? lent = null)
    {
        if (!await _responseStarted.ConfigureAwait(false) || _status.Task.IsCompleted) return EndOfStream();
        using var linked = cancellationToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _callSource.Token) : null;
        try
        {
            var message = await StreamMessageFraming.ReadMessageAsync(_responseStream!, _method.ResponseParser, _client.Options.MaxReceiveMessageSize,
                linked?.Token ?? _callSource.Token, lent).ConfigureAwait(false);
            if (message is not null) return message;
            var trailing = _response!.TrailingHeaders;
            var status = StatusFromHeaders(trailing) ?? new Status(StatusCode.Internal, "No grpc-status found on response.");
            Finish(status, ToMetadata(trailing));
            return EndOfStream();
        }
        catch (Exception ex)
        {
            if (cancellationToken.IsCancellationRequested && !_status.Task.IsCompleted)
                Finish(new Status(StatusCode.Cancelled, "Call cancelled by the client."), new Metadata());
            var status = Finish(ex is RpcException rpc ? rpc.Status : StatusFromException(ex, "Error reading the response"), new Metadata());
            throw new RpcException(status, _trailers, ex);
        }
    }

    /// <summary>No more messages: a clean end for OK, the status as an exception otherwise.</summary>
    private TResponse? EndOfStream()
    {
        var status = _status.Task.Result;
        if (status.StatusCode != StatusCode.OK) throw new RpcException(status, _trailers);
        return null;
    }

    public async Task WriteAsync(TRequest message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        var content = _requestStream ?? throw new InvalidOperationException("This call has no request stream.");
        if (_requestCompleted) throw new InvalidOperationException("The request stream was already completed; no more messages can be written.");
        if (Interlocked.Exchange(ref _writing, 1) != 0) throw new InvalidOperationException("A write is already in progress; await each WriteAsync before the next.");
        FramedMessage? framed = null;
        try
        {
            if (_status.Task.IsCompleted) throw new RpcException(_status.Task.Result, _trailers);
            var ready = await Task.WhenAny(content.StreamReady, _status.Task).ConfigureAwait(false);
            if (ready != content.StreamReady) throw new RpcException(_status.Task.Result, _trailers);
            var stream = await content.StreamReady.ConfigureAwait(false);
            framed = FramedMessage.Create(message, _client.Options.MaxSendMessageSize);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _callSource.Token);
            await StreamMessageFraming.WriteMessageAsync(stream, framed, linked.Token).ConfigureAwait(false);
            await stream.FlushAsync(linked.Token).ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            throw new RpcException(Finish(ex.Status, ex.Trailers), _trailers, ex);
        }
        catch (Exception ex)
        {
            if (cancellationToken.IsCancellationRequested && !_status.Task.IsCompleted)
                Finish(new Status(StatusCode.Cancelled, "Call cancelled by the client."), new Metadata());
            // A server that ends the call early (e.g. RESOURCE_EXHAUSTED for an oversize message) resets the request
            // stream: its status, not the reset, is the call's outcome. The response headers settle either way.
            if (!_status.Task.IsCompleted) await _responseStarted.ConfigureAwait(false);
            throw new RpcException(Finish(StatusFromException(ex, "Error writing the request"), new Metadata()), _trailers, ex);
        }
        finally
        {
            framed?.Dispose();
            Volatile.Write(ref _writing, 0);
        }
    }

    public Task CompleteAsync()
    {
        var content = _requestStream ?? throw new InvalidOperationException("This call has no request stream.");
        _requestCompleted = true;
        content.Complete();
        return Task.CompletedTask;
    }

    /// <summary>Records the call's status unless one was already recorded; returns the status that stands.</summary>
    private Status Finish(Status status, Metadata trailers)
    {
        if (_status.TrySetResult(status))
        {
            _trailers = trailers;
            // A finished call must not stay reachable from a long-lived caller token.
            _userCancellation.Unregister();
            _deadlineRegistration.Unregister();
            _headers.TrySetException(new RpcException(status, trailers));
            _requestStream?.Complete();
            // A call that ends early resets its HTTP/2 stream (RST_STREAM CANCEL) so the server stops too.
            if (status.StatusCode != StatusCode.OK) _callSource.Cancel();
        }
        return _status.Task.Result;
    }

    private Status StatusFromException(Exception ex, string context)
    {
        if (_status.Task.IsCompleted) return _status.Task.Result;
        if (_deadlineSource?.IsCancellationRequested == true) return new Status(StatusCode.DeadlineExceeded, "Deadline exceeded.");
        if (_options.CancellationToken.IsCancellationRequested) return new Status(StatusCode.Cancelled, "Call cancelled by the client.");
        for (var inner = ex; inner is not null; inner = inner.InnerException)
        {
            if (inner is HttpProtocolException protocol)
                return new Status(GrpcProtocol.StatusFromHttp2ErrorCode(protocol.ErrorCode), $"{context}: the HTTP/2 stream was reset (error code {protocol.ErrorCode}).");
            if (inner is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError or HttpRequestError.ProxyTunnelError })
                return new Status(StatusCode.Unavailable, $"{context}: {inner.Message}");
        }
        if (ex is OperationCanceledException) return new Status(StatusCode.Cancelled, "Call cancelled.");
        return new Status(ex is HttpRequestException or IOException ? StatusCode.Unavailable : StatusCode.Internal, $"{context}: {ex.Message}");
    }

    private static Status? StatusFromHeaders(HttpHeaders headers)
    {
        if (!headers.TryGetValues(GrpcProtocol.StatusHeader, out var values)) return null;
        var text = values.FirstOrDefault();
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var code))
            return new Status(StatusCode.Unknown, $"Unparsable grpc-status value '{text}'.");
        var message = headers.TryGetValues(GrpcProtocol.MessageHeader, out var messages) ? GrpcProtocol.PercentDecode(messages.FirstOrDefault()) : "";
        return new Status((StatusCode)code, message);
    }

    private static Metadata ToMetadata(HttpHeaders headers)
    {
        var metadata = new Metadata();
        foreach (var (name, values) in headers.NonValidated)
            foreach (var value in values)
                GrpcProtocol.AddToMetadata(metadata, name, value);
        return metadata;
    }

    public Status GetStatus() => _status.Task.IsCompleted ? _status.Task.Result
        : throw new InvalidOperationException("The call has not finished yet: read the responses to the end (or await the response) before GetStatus.");

    public Metadata GetTrailers() => _status.Task.IsCompleted ? _trailers
        : throw new InvalidOperationException("The call has not finished yet: read the responses to the end (or await the response) before GetTrailers.");

    public void Dispose()
    {
        Finish(new Status(StatusCode.Cancelled, "Call disposed before it finished."), new Metadata());
        _userCancellation.Dispose();
        _deadlineRegistration.Dispose();
        _deadlineSource?.Dispose();
        _response?.Dispose();
        _callSource.Dispose();
    }
}

using System.Buffers;
using System.Net;

namespace ParallelNet.Rpc.Internal.Http2;

/// <summary>
/// One request/response exchange on an <see cref="Http2Connection"/>. Received DATA goes straight into the memory of
/// a waiting read when there is one (the connection even reads the socket into it), otherwise into a queue of pooled
/// chunks that later reads drain; either way a byte is copied at most once in user space. A read waits for a minimum
/// count, so a large gRPC message is filled frame after frame without a round trip through the caller per frame.
/// </summary>
internal sealed class Http2Stream : IHttp2SendingStream
{
    private readonly Http2Connection _connection;
    private readonly object _lock = new();
    private readonly LinkedList<(byte[] Array, int Offset, int Count)> _chunks = new();
    private readonly TaskCompletionSource<HttpResponseMessage> _response = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private PendingRead? _pending;
    private HttpResponseMessage? _responseMessage;
    private bool _endOfData;
    private Exception? _error;
    private long _sendWindow;
    private int _unacknowledged;

    public Http2Stream(Http2Connection connection, int id, long sendWindow, HttpRequestMessage request)
    {
        _connection = connection;
        Id = id;
        _sendWindow = sendWindow;
        Request = request;
    }

    public int Id { get; }

    public Http2Connection Connection => _connection;

    public HttpRequestMessage Request { get; }

    public Task<HttpResponseMessage> Response => _response.Task;

    /// <summary>Our END_STREAM (or a reset) went out: nothing more will be sent.</summary>
    public bool LocalClosed { get; set; }

    /// <summary>The server's END_STREAM or a reset arrived: nothing more will be received.</summary>
    public bool RemoteClosed { get; set; }

    /// <summary>Bytes the server may still send before we grant more (guarded by the connection's flow lock).</summary>
    public long ReceiveWindow { get; set; }

    /// <summary>Bytes we may still send (guarded by the connection's flow lock).</summary>
    public long SendWindow { get => _sendWindow; set => _sendWindow = value; }

    /// <summary>Unhooks the caller's cancellation once the stream has left its connection.</summary>
    public CancellationTokenRegistration CancelRegistration { get; set; }

    public void OnRemoved() => CancelRegistration.Unregister();

    /// <summary>The whole response (headers, data, trailers) has arrived.</summary>
    public bool IsResponseEnded
    {
        get
        {
            lock (_lock) return _endOfData && _responseMessage is not null;
        }
    }

    public Exception? Error
    {
        get
        {
            lock (_lock) return _error;
        }
    }

    /// <summary>The response headers arrived (or, with endStream, a Trailers-Only response).</summary>
    public void OnResponseHeaders(HttpStatusCode status, List<(string Name, string Value)> headers, bool endStream)
    {
        var response = new HttpResponseMessage(status)
        {
            Version = HttpVersion.Version20,
            RequestMessage = Request,
            Content = new Http2ResponseContent(this),
        };
        foreach (var (name, value) in headers)
        {
            if (name.StartsWith(':')) continue;
            if (!response.Headers.TryAddWithoutValidation(name, value)) response.Content.Headers.TryAddWithoutValidation(name, value);
        }
        lock (_lock) _responseMessage = response;
        if (endStream) EndOfData();
        _response.TrySetResult(response);
    }

    public bool HasResponse
    {
        get
        {
            lock (_lock) return _responseMessage is not null;
        }
    }

    public void OnTrailers(List<(string Name, string Value)> trailers)
    {
        HttpResponseMessage response;
        lock (_lock) response = _responseMessage!;
        foreach (var (name, value) in trailers)
            if (!name.StartsWith(':')) response.TrailingHeaders.TryAddWithoutValidation(name, value);
        EndOfData();
    }

    /// <summary>Bytes of a DATA frame the connection already holds in its buffer.</summary>
    public void Deliver(ReadOnlySpan<byte> data)
    {
        var consumed = 0;
        lock (_lock)
        {
            if (_error is not null) consumed = data.Length;
            else
            {
                if (_pending is { Claimed: false } pending && _chunks.Count == 0)
                {
                    var taken = Math.Min(data.Length, pending.Destination.Length - pending.Filled);
                    data[..taken].CopyTo(pending.Destination.Span[pending.Filled..]);
                    pending.Filled += taken;
                    consumed = taken;
                    data = data[taken..];
                    CompleteIfSatisfied(pending);
                }
                if (!data.IsEmpty)
                {
                    var chunk = ArrayPool<byte>.Shared.Rent(data.Length);
                    data.CopyTo(chunk);
                    _chunks.AddLast((chunk, 0, data.Length));
                }
            }
        }
        if (consumed > 0) _connection.OnConsumed(this, consumed);
    }

    /// <summary>Memory of the waiting read that the connection may read the socket into; empty when no read waits.</summary>
    public Memory<byte> ClaimDirectTarget(int maxBytes)
    {
        lock (_lock)
        {
            if (_error is not null || _pending is not { Claimed: false } pending || _chunks.Count > 0) return Memory<byte>.Empty;
            pending.Claimed = true;
            return pending.Destination.Slice(pending.Filled, Math.Min(maxBytes, pending.Destination.Length - pending.Filled));
        }
    }

    /// <summary>The connection read <paramref name="count"/> bytes into the claimed memory.</summary>
    public void CommitDirect(int count)
    {
        lock (_lock)
        {
            var pending = _pending!;
            pending.Claimed = false;
            pending.Filled += count;
            if (pending.CancelRequested) CompletePending(pending, new OperationCanceledException(pending.CancellationToken));
            else if (_error is not null) CompletePending(pending, _error);
            else CompleteIfSatisfied(pending);
        }
        _connection.OnConsumed(this, count);
    }

    /// <summary>
    /// A DATA payload the connection read from the socket into a chunk because no read waited when it started; a read
    /// that began meanwhile is served from the chunk first, or it would wait behind data queued after it started.
    /// </summary>
    public void Enqueue(byte[] chunk, int count)
    {
        var consumed = 0;
        var returnChunk = false;
        lock (_lock)
        {
            if (_error is not null)
            {
                consumed = count;
                returnChunk = true;
            }
            else
            {
                var offset = 0;
                if (_pending is { Claimed: false } pending && _chunks.Count == 0)
                {
                    offset = Math.Min(count, pending.Destination.Length - pending.Filled);
                    chunk.AsSpan(0, offset).CopyTo(pending.Destination.Span[pending.Filled..]);
                    pending.Filled += offset;
                    consumed = offset;
                    CompleteIfSatisfied(pending);
                }
                if (offset < count) _chunks.AddLast((chunk, offset, count - offset));
                else returnChunk = true;
            }
        }
        if (returnChunk) ArrayPool<byte>.Shared.Return(chunk);
        if (consumed > 0) _connection.OnConsumed(this, consumed);
    }

    public void EndOfData()
    {
        lock (_lock)
        {
            _endOfData = true;
            if (_pending is { Claimed: false } pending) CompletePending(pending, null);
        }
    }

    /// <summary>Fails everything still waiting on this stream; the first error stands.</summary>
    public void Fail(Exception error)
    {
        var unread = 0;
        lock (_lock)
        {
            if (_error is not null) return;
            _error = error;
            if (_pending is { Claimed: false } pending) CompletePending(pending, error);
            unread = ReturnChunks();
        }
        _response.TrySetException(error);
        if (unread > 0) _connection.OnConsumed(this, unread);
    }

    /// <summary>Reads at least <paramref name="minimum"/> bytes unless the data ends first; 0 at the end.</summary>
    public ValueTask<int> ReadAtLeastAsync(Memory<byte> destination, int minimum, CancellationToken cancellationToken)
    {
        if (destination.IsEmpty) return ValueTask.FromResult(0);
        minimum = Math.Clamp(minimum, 1, destination.Length);
        var copied = 0;
        ValueTask<int> result;
        lock (_lock)
        {
            if (_pending is not null) throw new InvalidOperationException("Only one read at a time may wait on an HTTP/2 response body.");
            while (copied < destination.Length && _chunks.First is { } node)
            {
                var chunk = node.Value;
                var taken = Math.Min(chunk.Count, destination.Length - copied);
                chunk.Array.AsSpan(chunk.Offset, taken).CopyTo(destination.Span[copied..]);
                copied += taken;
                if (taken < chunk.Count)
                {
                    node.Value = (chunk.Array, chunk.Offset + taken, chunk.Count - taken);
                }
                else
                {
                    _chunks.RemoveFirst();
                    ArrayPool<byte>.Shared.Return(chunk.Array);
                }
            }
            if (copied >= minimum || (_chunks.Count == 0 && (_endOfData || _error is not null)))
            {
                result = copied == 0 && _error is not null ? ValueTask.FromException<int>(_error) : ValueTask.FromResult(copied);
            }
            else if (cancellationToken.IsCancellationRequested)
            {
                result = ValueTask.FromCanceled<int>(cancellationToken);
            }
            else
            {
                var pending = new PendingRead(destination, minimum, cancellationToken) { Filled = copied };
                _pending = pending;
                if (cancellationToken.CanBeCanceled)
                    pending.Registration = cancellationToken.Register(static state => ((Http2Stream)state!).CancelPendingRead(), this);
                result = new ValueTask<int>(pending.Completion.Task);
            }
        }
        if (copied > 0) _connection.OnConsumed(this, copied);
        return result;
    }

    private void CancelPendingRead()
    {
        lock (_lock)
        {
            if (_pending is not { } pending) return;
            if (pending.Claimed) pending.CancelRequested = true;
            else CompletePending(pending, new OperationCanceledException(pending.CancellationToken));
        }
    }

    private void CompleteIfSatisfied(PendingRead pending)
    {
        if (pending.Filled >= pending.Minimum || (_endOfData && _chunks.Count == 0)) CompletePending(pending, null);
    }

    private void CompletePending(PendingRead pending, Exception? error)
    {
        _pending = null;
        // Unregister, not Dispose: this runs under the lock, and Dispose would wait for a cancellation callback that is
        // itself waiting for the lock (a deadlock seen when trailers ended a read while its token was being cancelled).
        // A callback already running finds no pending read once it gets the lock, and returns.
        pending.Registration.Unregister();
        // A failure before the reader got all it needs is the reader's error: a short count would look like a truncated message.
        if (error is not null && pending.Filled < pending.Minimum) pending.Completion.TrySetException(error);
        else pending.Completion.TrySetResult(pending.Filled);
    }

    /// <summary>Returns queued chunks to the pool once the stream is gone.</summary>
    public void ReleaseBuffers()
    {
        int unread;
        lock (_lock) unread = ReturnChunks();
        if (unread > 0) _connection.OnConsumed(this, unread);
    }

    /// <summary>Drops the unread chunks; returns how many bytes they held (the connection window must get them back).</summary>
    private int ReturnChunks()
    {
        var count = 0;
        foreach (var chunk in _chunks)
        {
            count += chunk.Count;
            ArrayPool<byte>.Shared.Return(chunk.Array);
        }
        _chunks.Clear();
        return count;
    }

    /// <summary>Counts bytes the reader consumed; returns the WINDOW_UPDATE increment due for the stream, or 0.</summary>
    public int AddConsumed(int count, int threshold)
    {
        _unacknowledged += count;
        if (_unacknowledged < threshold) return 0;
        var increment = _unacknowledged;
        _unacknowledged = 0;
        return increment;
    }

    private sealed class PendingRead(Memory<byte> destination, int minimum, CancellationToken cancellationToken)
    {
        public Memory<byte> Destination { get; } = destination;
        public int Minimum { get; } = minimum;
        public CancellationToken CancellationToken { get; } = cancellationToken;
        public TaskCompletionSource<int> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public CancellationTokenRegistration Registration { get; set; }
        public int Filled { get; set; }
        public bool Claimed { get; set; }
        public bool CancelRequested { get; set; }
    }
}

using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using Google.Protobuf;

namespace ParallelNet.Rpc.Internal.Http2;

/// <summary>
/// One request stream on our own HTTP/2 server, seen by the call it carries. The connection's read loop reads DATA
/// payloads from the socket straight into the buffer of a large message the call waits for, or else into the request
/// pipe (the only writer); the call reads messages from it, and what it consumes reopens the flow-control windows. Responses go out through the connection, straight from the
/// message's memory. Fields marked "guarded" belong to the connection's lock.
/// </summary>
internal sealed class Http2ServerStream : IServerCallTransport, IDirectBodyTarget, IHttp2SendingStream
{
    private readonly Http2ServerConnection _connection;
    private readonly List<(string Name, string Value)> _headers;
    private readonly Pipe _body;
    private readonly ConsumptionCountingPipeReader _bodyReader;
    private readonly CancellationTokenSource _clientGone = new();
    private readonly object _gate = new();
    private DirectRead? _direct;
    private DirectRead? _claimed;
    private bool _bodyEnded;
    private bool _callFinished;
    private long _delivered;
    private long _consumed;

    public Http2ServerStream(Http2ServerConnection connection, int id, List<(string Name, string Value)> headers, long sendWindow, long receiveWindow,
        MemoryPool<byte> pool)
    {
        _connection = connection;
        Id = id;
        _headers = headers;
        SendWindow = sendWindow;
        ReceiveWindow = receiveWindow;
        // The HTTP/2 window bounds what a client may send ahead, so the pipe itself never makes the read loop wait; the
        // call's continuations run on the thread pool, never on the read loop.
        _body = new Pipe(new PipeOptions(pool, PipeScheduler.ThreadPool, PipeScheduler.Inline, pauseWriterThreshold: 0, resumeWriterThreshold: 0,
            minimumSegmentSize: LargeBlockMemoryPool.DefaultBlockSize, useSynchronizationContext: false));
        _bodyReader = new ConsumptionCountingPipeReader(_body.Reader, OnConsumed);
        HttpMethod = Find(":method") ?? "";
        Path = Find(":path") ?? "";
        Authority = Find(":authority") ?? Find("host") ?? "";
    }

    public int Id { get; }

    /// <summary>Guarded.</summary>
    public long SendWindow { get; set; }

    /// <summary>Guarded.</summary>
    public long ReceiveWindow { get; set; }

    /// <summary>Consumed bytes not yet returned to the client by WINDOW_UPDATE. Guarded.</summary>
    public int Unacknowledged { get; set; }

    /// <summary>The client ended its side (END_STREAM) or the stream was reset. Guarded.</summary>
    public bool RemoteClosed { get; set; }

    /// <summary>We ended our side (END_STREAM or RST_STREAM): nothing more may be sent. Guarded.</summary>
    public bool LocalClosed { get; set; }

    public string HttpMethod { get; }

    public string Path { get; }

    public string Authority { get; }

    public string Peer => _connection.Peer;

    public CancellationToken ClientGone => _clientGone.Token;


    public string? GetRequestHeader(string name) => Find(name.ToLowerInvariant());

    private string? Find(string name)
    {
        foreach (var (n, v) in _headers)
            if (n == name) return v;
        return null;
    }

    public Metadata ReadRequestMetadata()
    {
        var metadata = new Metadata();
        foreach (var (name, value) in _headers) GrpcProtocol.AddToMetadata(metadata, name, value);
        return metadata;
    }

    public ValueTask<T?> ReadMessageAsync<T>(MessageParser<T> parser, int maxMessageSize, CancellationToken cancellationToken, LentReceiveBuffer? lent)
        where T : class, IMessage<T> =>
        PipeMessageFraming.ReadMessageAsync(_bodyReader, parser, maxMessageSize, cancellationToken, lent, direct: this);

    public ValueTask<int> FillAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (destination.IsEmpty) return ValueTask.FromResult(0);
        lock (_gate)
        {
            if (_direct is not null) throw new InvalidOperationException("Only one read at a time may wait on an HTTP/2 request body.");
            // Bytes already in the pipe come first; so does the pipe's end, which the caller learns from the pipe.
            if (_bodyEnded || Interlocked.Read(ref _delivered) != Interlocked.Read(ref _consumed)) return ValueTask.FromResult(0);
            if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled<int>(cancellationToken);
            var read = new DirectRead(destination);
            _direct = read;
            if (cancellationToken.CanBeCanceled)
                read.Registration = cancellationToken.Register(() => CompleteDirect(read, new OperationCanceledException(cancellationToken)));
            return new ValueTask<int>(read.Completion.Task);
        }
    }

    /// <summary>
    /// Memory of the waiting direct read, for up to <paramref name="maxBytes"/> of the current DATA payload; empty when
    /// no read waits. Read loop only; the claim ends with <see cref="CommitDirect"/>.
    /// </summary>
    public Memory<byte> ClaimDirectTarget(int maxBytes)
    {
        lock (_gate)
        {
            if (_direct is not { } read) return Memory<byte>.Empty;
            _claimed = read;
            return read.Destination.Slice(read.Filled, Math.Min(maxBytes, read.Destination.Length - read.Filled));
        }
    }

    /// <summary>The read loop read <paramref name="count"/> bytes (maybe 0, when the socket read failed) into the claimed memory.</summary>
    public void CommitDirect(int count)
    {
        DirectRead? full = null;
        lock (_gate)
        {
            // The read may have ended meanwhile (cancelled, failed): its abandoned buffer took the bytes.
            if (_claimed is { } read && ReferenceEquals(_direct, read))
            {
                read.Filled += count;
                if (read.Filled == read.Destination.Length && Detach(read)) full = read;
            }
            _claimed = null;
        }
        full?.Finish(null);
        if (count > 0) _connection.OnConsumed(this, count);
    }

    /// <summary>Ends the waiting direct read, if <paramref name="read"/> still is it: with its count, or with an error.</summary>
    private void CompleteDirect(DirectRead read, Exception? error)
    {
        bool detached;
        lock (_gate) detached = Detach(read);
        // Outside the lock: disposing the cancellation registration waits for a callback that may be waiting for the lock.
        if (detached) read.Finish(error);
    }

    /// <summary>Whether <paramref name="read"/> was the waiting direct read; it no longer is. The caller holds the gate.</summary>
    private bool Detach(DirectRead read)
    {
        if (!ReferenceEquals(_direct, read)) return false;
        _direct = null;
        return true;
    }

    public Task SendHeadersAsync(Metadata metadata) =>
        _connection.SendHeadersAsync(this, Http2ResponseHeaders.Encode(200, grpc: true, MetadataFields(metadata)), endStream: false);

    public async ValueTask<bool> WriteMessageAsync(IMessage message, int? maxMessageSize, CancellationToken cancellationToken)
    {
        using var framed = FramedMessage.Create(message, maxMessageSize);
        foreach (var piece in framed.Pieces)
            if (!await _connection.SendDataAsync(this, piece, cancellationToken).ConfigureAwait(false)) return false;
        return true;
    }

    public Task CompleteAsync(Status status, Metadata trailers, bool headersSent, int httpStatus = 200, IReadOnlyList<(string Name, string Value)>? extraHeaders = null)
    {
        var fields = new List<(string, string)> { (GrpcProtocol.StatusHeader, ((int)status.StatusCode).ToString(CultureInfo.InvariantCulture)) };
        var message = GrpcProtocol.PercentEncode(status.Detail);
        if (message.Length > 0) fields.Add((GrpcProtocol.MessageHeader, message));
        if (!headersSent) fields.AddRange(extraHeaders ?? []);
        fields.AddRange(MetadataFields(trailers));
        var block = headersSent ? Http2ResponseHeaders.EncodeTrailers(fields) : Http2ResponseHeaders.Encode(httpStatus, grpc: true, fields);
        return _connection.SendHeadersAsync(this, block, endStream: true);
    }

    public Task RespondHttpErrorAsync(int httpStatus) =>
        _connection.SendHeadersAsync(this, Http2ResponseHeaders.Encode(httpStatus, grpc: false, []), endStream: true);

    private static IEnumerable<(string, string)> MetadataFields(Metadata metadata) =>
        metadata.Select(entry => (entry.Key, entry.IsBinary ? GrpcProtocol.EncodeBase64(entry.ValueBytes) : entry.Value));

    private void OnConsumed(int count)
    {
        Interlocked.Add(ref _consumed, count);
        _connection.OnConsumed(this, count);
    }

    /// <summary>Memory for the next DATA bytes. Read loop only.</summary>
    public Memory<byte> GetBodyMemory() => _body.Writer.GetMemory();

    /// <summary>Read loop only.</summary>
    public void CommitBody(int count)
    {
        _body.Writer.Advance(count);
        DirectRead? waiting;
        bool unwanted;
        lock (_gate)
        {
            unwanted = _callFinished;
            if (!unwanted) Interlocked.Add(ref _delivered, count);
            // A read that started waiting while these bytes were on their way must take them from the pipe first.
            waiting = _direct;
        }
        if (waiting is not null) CompleteDirect(waiting, null);
        // Nobody will read them: their connection window goes back now.
        if (unwanted) _connection.OnConsumed(null, count);
    }

    /// <summary>Makes committed bytes readable; never waits, as the pipe never pauses its writer. Read loop only.</summary>
    public void PublishBody() => _body.Writer.FlushAsync().GetAwaiter().GetResult();

    /// <summary>The client ended the request stream. Read loop only.</summary>
    public void EndOfBody()
    {
        EndDirectReads(null);
        _body.Writer.Complete();
    }

    /// <summary>No more bytes come: a waiting direct read ends with what it has (the pipe tells the rest) or with the error.</summary>
    private void EndDirectReads(Exception? error)
    {
        DirectRead? waiting;
        lock (_gate)
        {
            _bodyEnded = true;
            waiting = _direct;
        }
        if (waiting is not null) CompleteDirect(waiting, error);
    }

    /// <summary>The client reset the stream or its connection ended: the call's token fires and reads fail. Read loop only.</summary>
    public void Fail(string reason)
    {
        // The token first: a read that fails next must find the call already cancelled, not blame the handler.
        try
        {
            _clientGone.Cancel();
        }
        catch (AggregateException)
        {
            // A token callback threw; the call still sees its token cancelled.
        }
        var error = new IOException(reason);
        EndDirectReads(error);
        _body.Writer.Complete(error);
    }

    /// <summary>
    /// The call finished: its request pipe and token are no longer used. Returns how many delivered request bytes it
    /// never read; bytes that still arrive (the rest of a DATA frame being read) give their window back as they come.
    /// </summary>
    public long OnCallFinished()
    {
        long unread;
        lock (_gate)
        {
            _callFinished = true;
            unread = Interlocked.Read(ref _delivered) - Interlocked.Read(ref _consumed);
        }
        _bodyReader.Complete();
        return unread;
    }

    private sealed class DirectRead(Memory<byte> destination)
    {
        public Memory<byte> Destination { get; } = destination;
        public TaskCompletionSource<int> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public CancellationTokenRegistration Registration { get; set; }
        public int Filled { get; set; }

        /// <summary>Completes the waiting call with what arrived, or with the error. Never under the gate.</summary>
        public void Finish(Exception? error)
        {
            Registration.Dispose();
            if (error is null) Completion.TrySetResult(Filled);
            else Completion.TrySetException(error);
        }
    }
}

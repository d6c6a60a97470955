using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace ParallelNet.Rpc.Internal.Http2;

/// <summary>What a server connection needs to know from the server's options.</summary>
internal sealed record Http2ServerSettings(int StreamWindowSize, int ConnectionWindowSize, TimeSpan KeepAlivePingDelay, TimeSpan KeepAlivePingTimeout,
    MemoryPool<byte> BodyPool);

/// <summary>
/// One HTTP/2 server connection (RFC 9113) over TCP, with prior knowledge (h2c) or over TLS (ALPN h2): the preface, SETTINGS (1 MiB frames,
/// large windows), many concurrent request streams, flow control both ways, PING answers, RST_STREAM both ways and
/// GOAWAY on shutdown. Each request stream runs as one call through <c>dispatch</c>. Writes are serialized by one
/// lock, one frame at a time; one loop reads (see the Reading part).
/// </summary>
internal sealed partial class Http2ServerConnection
{
    /// <summary>The largest frame we accept, advertised as SETTINGS_MAX_FRAME_SIZE.</summary>
    public const int MaxFrameSize = 1024 * 1024;

    /// <summary>Advertised as SETTINGS_MAX_CONCURRENT_STREAMS; more open streams are refused (REFUSED_STREAM).</summary>
    public const int MaxConcurrentStreams = 256;

    private readonly Socket _socket;
    private readonly Stream _transport;
    private readonly Http2FrameWriter _frameWriter;
    private readonly Http2KeepAlive _keepAlive;
    private readonly Http2ServerSettings _settings;
    private readonly Func<IServerCallTransport, Task> _dispatch;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _closing = new();
    private readonly object _sync = new();
    private readonly Dictionary<int, Http2ServerStream> _streams = [];
    private readonly TaskCompletionSource _callsDrained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Http2SendWindows _sendWindows = new();
    private int _connectionUnacknowledged;
    private int _peerInitialWindow = 65_535;
    private int _peerMaxFrameSize = FrameHeader.MinMaxFrameSize;
    private int _runningCalls;
    private bool _goingAway;

    /// <summary>A connection over <paramref name="transport"/>: the socket's own stream (h2c), or TLS over it.</summary>
    public Http2ServerConnection(Socket socket, Stream transport, Http2ServerSettings settings, Func<IServerCallTransport, Task> dispatch, ILogger logger)
    {
        _socket = socket;
        _transport = transport;
        // Gathered sends go to the socket itself, so only where no TLS sits between.
        _frameWriter = new Http2FrameWriter(_transport, transport is NetworkStream ? socket : null);
        _settings = settings;
        _dispatch = dispatch;
        _logger = logger;
        Peer = PeerOf(socket);
        _frameReader = new Http2FrameReader(_transport, $"The client at {Peer}");
        _headerBlocks = new Http2HeaderBlockAssembler(OnHeaderBlock);
        _keepAlive = new Http2KeepAlive(settings.KeepAlivePingDelay, settings.KeepAlivePingTimeout, HasRunningCalls,
            ping => QueueControlFrame(FrameType.Ping, 0, 0, ping),
            timeout =>
            {
                _logger.LogWarning("Closing the HTTP/2 connection from {Peer}: it did not answer a keepalive ping within {Seconds} s.", Peer, timeout.TotalSeconds);
                Abort();
            });
    }

    public string Peer { get; }

    public static string PeerOf(Socket socket)
    {
        var remote = socket.RemoteEndPoint as IPEndPoint;
        return GrpcProtocol.FormatPeer(remote?.Address, remote?.Port ?? 0);
    }

    private bool HasRunningCalls()
    {
        lock (_sync) return _runningCalls > 0;
    }

    /// <summary>Sends headers (HEADERS and CONTINUATION frames as needed); END_STREAM closes our side, and a reset (NO_ERROR) follows if the client's side is still open.</summary>
    public async Task SendHeadersAsync(Http2ServerStream stream, byte[] block, bool endStream)
    {
        if (!await TryAcquireWriteLockAsync().ConfigureAwait(false)) return;
        try
        {
            bool resetAfter;
            lock (_sync)
            {
                if (stream.LocalClosed) return;
                if (endStream) stream.LocalClosed = true;
                resetAfter = endStream && !stream.RemoteClosed;
                if (resetAfter) stream.RemoteClosed = true;
            }
            var maxFrame = Volatile.Read(ref _peerMaxFrameSize);
            var first = Math.Min(block.Length, maxFrame);
            var flags = (byte)((endStream ? FrameFlags.EndStream : 0) | (first == block.Length ? FrameFlags.EndHeaders : 0));
            await _frameWriter.WriteAsync(new FrameHeader(first, FrameType.Headers, flags, stream.Id), block.AsMemory(0, first), _closing.Token).ConfigureAwait(false);
            for (var position = first; position < block.Length;)
            {
                var length = Math.Min(block.Length - position, maxFrame);
                var last = position + length == block.Length;
                await _frameWriter.WriteAsync(new FrameHeader(length, FrameType.Continuation, last ? FrameFlags.EndHeaders : (byte)0, stream.Id),
                    block.AsMemory(position, length), _closing.Token).ConfigureAwait(false);
                position += length;
            }
            // The response is complete; the request's remaining bytes are not wanted (RFC 9113 8.1).
            if (resetAfter)
                await _frameWriter.WriteAsync(new FrameHeader(4, FrameType.RstStream, 0, stream.Id), Http2FrameWriter.UInt32Payload(Http2ErrorCode.NoError),
                    _closing.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Abort(ex);
            throw new IOException($"The connection to {Peer} failed while sending headers.", ex);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Sends response bytes as DATA frames within the flow-control windows; false when the stream or connection is gone.</summary>
    public async ValueTask<bool> SendDataAsync(Http2ServerStream stream, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            var granted = await ReserveSendWindowAsync(stream, data.Length, cancellationToken).ConfigureAwait(false);
            if (granted == 0) return false;
            if (!await TrySendDataFrameAsync(stream, data[..granted]).ConfigureAwait(false))
            {
                // Only this stream is gone (reset or ended): its share of the connection window goes back to the others.
                lock (_sync) _sendWindows.GiveBack(granted);
                return false;
            }
            data = data[granted..];
        }
        return true;
    }

    private async ValueTask<bool> TrySendDataFrameAsync(Http2ServerStream stream, ReadOnlyMemory<byte> payload)
    {
        if (!await TryAcquireWriteLockAsync().ConfigureAwait(false)) return false;
        try
        {
            lock (_sync)
                if (stream.LocalClosed) return false;
            await _frameWriter.WriteAsync(new FrameHeader(payload.Length, FrameType.Data, 0, stream.Id), payload, _closing.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (Exception ex)
        {
            Abort(ex);
            return false;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async ValueTask<bool> TryAcquireWriteLockAsync()
    {
        try
        {
            await _writeLock.WaitAsync(_closing.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Waits until both windows allow sending; returns how many bytes may go in the next frame (0: the stream or connection is gone).</summary>
    private async ValueTask<int> ReserveSendWindowAsync(Http2ServerStream stream, int wanted, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task changed;
            lock (_sync)
            {
                if (_closing.IsCancellationRequested || stream.LocalClosed || !_streams.ContainsKey(stream.Id)) return 0;
                var granted = _sendWindows.TryTake(stream, wanted, _peerMaxFrameSize);
                if (granted > 0) return granted;
                changed = _sendWindows.Changed;
            }
            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A call consumed <paramref name="count"/> request bytes of <paramref name="stream"/> (null: bytes nobody reads): reopen the windows when due.</summary>
    public void OnConsumed(Http2ServerStream? stream, int count)
    {
        int connectionIncrement = 0, streamIncrement = 0;
        lock (_sync)
        {
            _connectionUnacknowledged += count;
            if (_connectionUnacknowledged >= _settings.ConnectionWindowSize / 4)
            {
                connectionIncrement = _connectionUnacknowledged;
                _connectionUnacknowledged = 0;
                _connectionReceiveWindow += connectionIncrement;
            }
            if (stream is not null && !stream.RemoteClosed)
            {
                stream.Unacknowledged += count;
                if (stream.Unacknowledged >= _settings.StreamWindowSize / 4)
                {
                    streamIncrement = stream.Unacknowledged;
                    stream.Unacknowledged = 0;
                    stream.ReceiveWindow += streamIncrement;
                }
            }
        }
        if (connectionIncrement > 0) QueueControlFrame(FrameType.WindowUpdate, 0, 0, Http2FrameWriter.UInt32Payload((uint)connectionIncrement));
        if (streamIncrement > 0) QueueControlFrame(FrameType.WindowUpdate, 0, stream!.Id, Http2FrameWriter.UInt32Payload((uint)streamIncrement));
    }

    /// <summary>Sends a small control frame without making the caller (often the read loop) wait for the write lock.</summary>
    private void QueueControlFrame(FrameType type, byte flags, int streamId, byte[] payload) => _ = WriteControlFrameAsync(type, flags, streamId, payload);

    private async Task WriteControlFrameAsync(FrameType type, byte flags, int streamId, byte[] payload)
    {
        if (!await TryAcquireWriteLockAsync().ConfigureAwait(false)) return;
        try
        {
            await _frameWriter.WriteAsync(new FrameHeader(payload.Length, type, flags, streamId), payload, _closing.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Abort(ex);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Resets a stream from our side: the call sees its client gone.</summary>
    private void ResetStream(Http2ServerStream stream, int errorCode, string reason)
    {
        bool send;
        lock (_sync)
        {
            send = !stream.LocalClosed;
            stream.LocalClosed = stream.RemoteClosed = true;
            _sendWindows.Pulse();
        }
        _logger.LogWarning("HTTP/2 stream {StreamId} from {Peer} reset (error code {ErrorCode}): {Reason}", stream.Id, Peer, errorCode, reason);
        stream.Fail(reason);
        if (send) QueueControlFrame(FrameType.RstStream, 0, stream.Id, Http2FrameWriter.UInt32Payload((uint)errorCode));
    }

    /// <summary>Runs one call on its own task; when it ends, the stream leaves the connection.</summary>
    private async Task RunCallAsync(Http2ServerStream stream)
    {
        try
        {
            await _dispatch(stream).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "The call on HTTP/2 stream {StreamId} from {Peer} failed.", stream.Id, Peer);
        }
        bool unfinished;
        lock (_sync) unfinished = !stream.LocalClosed;
        // A call must end with a status; if it could not send one, the client learns from a reset instead of waiting.
        if (unfinished) ResetStream(stream, Http2ErrorCode.InternalError, "the call ended without sending its status");
        // Request bytes nobody read still occupied connection window.
        var unread = stream.OnCallFinished();
        bool drained;
        lock (_sync)
        {
            _streams.Remove(stream.Id);
            drained = --_runningCalls == 0 && _goingAway;
        }
        if (unread > 0) OnConsumed(null, (int)Math.Min(unread, int.MaxValue));
        if (drained) _callsDrained.TrySetResult();
    }

    /// <summary>Refuses new streams and tells the client so (GOAWAY, NO_ERROR); calls in flight go on.</summary>
    public void BeginShutdown()
    {
        int lastStreamId;
        bool drained;
        lock (_sync)
        {
            if (_goingAway) return;
            _goingAway = true;
            lastStreamId = _lastStreamId;
            drained = _runningCalls == 0;
        }
        QueueControlFrame(FrameType.GoAway, 0, 0, Http2FrameWriter.GoAwayPayload(lastStreamId, Http2ErrorCode.NoError, "server shutting down"));
        if (drained) _callsDrained.TrySetResult();
    }

    /// <summary>Completes when every call has ended after <see cref="BeginShutdown"/>.</summary>
    public Task CallsDrained => _callsDrained.Task;

    /// <summary>Closes the connection at once: the read loop ends and every call sees its client gone.</summary>
    public void Abort(Exception? reason = null)
    {
        if (_closing.IsCancellationRequested) return;
        if (reason is not null) _logger.LogDebug(reason, "HTTP/2 connection from {Peer} closed.", Peer);
        try
        {
            _closing.Cancel();
        }
        catch (AggregateException)
        {
            // A waiter's callback threw; the connection closes regardless.
        }
        _socket.Dispose();
    }
}

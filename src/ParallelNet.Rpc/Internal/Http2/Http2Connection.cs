using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;

namespace ParallelNet.Rpc.Internal.Http2;

/// <summary>What a connection needs to know from the client's options.</summary>
internal sealed record Http2ConnectionSettings(
    int StreamWindowSize,
    int ConnectionWindowSize,
    TimeSpan ConnectTimeout,
    TimeSpan KeepAlivePingDelay,
    TimeSpan KeepAlivePingTimeout,
    Func<System.Security.Cryptography.X509Certificates.X509Certificate?, System.Security.Cryptography.X509Certificates.X509Chain?, SslPolicyErrors, bool>? ServerCertificateValidator);

/// <summary>
/// One HTTP/2 client connection (RFC 9113) over TCP (h2c with prior knowledge) or TLS (ALPN h2): many concurrent
/// streams, flow control both ways, SETTINGS, PING, GOAWAY. It advertises 1 MiB frames and large windows so that a
/// server sends big DATA frames, sends big DATA frames itself straight from the caller's memory (header and payload in
/// one gathered send on plain TCP), and reads DATA payloads into the memory of the reader waiting for them.
/// Writes are serialized by one lock, one frame at a time, so streams interleave frame by frame; one loop reads.
/// </summary>
internal sealed partial class Http2Connection : IAsyncDisposable
{
    /// <summary>The largest frame we accept, advertised as SETTINGS_MAX_FRAME_SIZE.</summary>
    public const int MaxFrameSize = 1024 * 1024;

    private static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    private readonly Stream _transport;
    private readonly Http2ConnectionSettings _settings;
    private readonly Action<Http2Connection> _onClosed;
    private readonly string _authority;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Http2FrameWriter _frameWriter;
    private readonly Http2KeepAlive _keepAlive;
    private readonly CancellationTokenSource _closing = new();
    private readonly object _sync = new();
    private readonly Dictionary<int, Http2Stream> _streams = [];
    private readonly Http2SendWindows _sendWindows = new();
    private long _connectionReceiveWindow = 65_535;
    private int _connectionUnacknowledged;
    private int _peerInitialWindow = 65_535;
    private int _peerMaxFrameSize = FrameHeader.MinMaxFrameSize;
    // Until the server's SETTINGS say otherwise, stay within the concurrency every common server allows.
    private int _peerMaxConcurrentStreams = 100;
    private int _nextStreamId = 1;
    private bool _goingAway;
    private Exception? _failure;
    private Task _readLoop = Task.CompletedTask;

    private Http2Connection(Stream transport, Socket? socket, Http2ConnectionSettings settings, Action<Http2Connection> onClosed, string authority)
    {
        _transport = transport;
        _frameWriter = new Http2FrameWriter(transport, socket);
        _headerBlocks = new Http2HeaderBlockAssembler(OnHeaderBlock);
        _keepAlive = new Http2KeepAlive(settings.KeepAlivePingDelay, settings.KeepAlivePingTimeout, HasActiveStreams,
            ping => QueueControlFrame(FrameType.Ping, 0, 0, ping),
            timeout => Abort(new HttpRequestException(HttpRequestError.ConnectionError,
                $"The server at {_authority} did not answer a keepalive ping within {timeout.TotalSeconds:0.###} s.")));
        _settings = settings;
        _onClosed = onClosed;
        _authority = authority;
    }

    /// <summary>Whether a new stream may start here now.</summary>
    public bool CanStartStream
    {
        get
        {
            lock (_sync) return _failure is null && !_goingAway && _streams.Count < _peerMaxConcurrentStreams && _nextStreamId < int.MaxValue - 2;
        }
    }

    private bool HasActiveStreams()
    {
        lock (_sync) return _streams.Count > 0 && _failure is null;
    }

    public bool IsClosed
    {
        get
        {
            lock (_sync) return _failure is not null;
        }
    }

    public static async Task<Http2Connection> ConnectAsync(Uri address, Http2ConnectionSettings settings, Action<Http2Connection> onClosed, CancellationToken cancellationToken)
    {
        var authority = address.Authority;
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (settings.ConnectTimeout != Timeout.InfiniteTimeSpan) timeout.CancelAfter(settings.ConnectTimeout);
        Stream? transport = null;
        try
        {
            await socket.ConnectAsync(new DnsEndPoint(address.IdnHost, address.Port), timeout.Token).ConfigureAwait(false);
            transport = new NetworkStream(socket, ownsSocket: true);
            Socket? gatherSocket = socket;
            if (address.Scheme == Uri.UriSchemeHttps)
            {
                var ssl = new SslStream(transport, leaveInnerStreamOpen: false);
                transport = ssl;
                gatherSocket = null;
                var options = new SslClientAuthenticationOptions
                {
                    TargetHost = address.IdnHost,
                    ApplicationProtocols = [SslApplicationProtocol.Http2],
                };
                if (settings.ServerCertificateValidator is { } validator)
                    options.RemoteCertificateValidationCallback = (_, certificate, chain, errors) => validator(certificate, chain, errors);
                await ssl.AuthenticateAsClientAsync(options, timeout.Token).ConfigureAwait(false);
                if (ssl.NegotiatedApplicationProtocol != SslApplicationProtocol.Http2)
                    throw new HttpRequestException(HttpRequestError.SecureConnectionError, $"The TLS server at {authority} did not agree to HTTP/2 (ALPN h2).");
            }
            var connection = new Http2Connection(transport, gatherSocket, settings, onClosed, authority);
            await connection.StartAsync(timeout.Token).ConfigureAwait(false);
            return connection;
        }
        catch (Exception ex)
        {
            if (transport is not null) await transport.DisposeAsync().ConfigureAwait(false);
            else socket.Dispose();
            if (ex is HttpRequestException) throw;
            if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested) throw;
            if (ex is OperationCanceledException)
                throw new HttpRequestException(HttpRequestError.ConnectionError, $"Connecting to {authority} timed out after {settings.ConnectTimeout.TotalSeconds:0.###} s.", ex);
            if (ex is AuthenticationException)
                throw new HttpRequestException(HttpRequestError.SecureConnectionError, $"The TLS handshake with {authority} failed: {ex.Message}", ex);
            throw new HttpRequestException(HttpRequestError.ConnectionError, $"Could not connect to {authority}: {ex.Message}", ex);
        }
    }

    /// <summary>Sends the preface, our SETTINGS and the connection window, then starts reading.</summary>
    private async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = new byte[4 * 6];
        Http2FrameWriter.WriteSetting(settings.AsSpan(0), SettingId.EnablePush, 0);
        Http2FrameWriter.WriteSetting(settings.AsSpan(6), SettingId.InitialWindowSize, (uint)_settings.StreamWindowSize);
        Http2FrameWriter.WriteSetting(settings.AsSpan(12), SettingId.MaxFrameSize, MaxFrameSize);
        Http2FrameWriter.WriteSetting(settings.AsSpan(18), SettingId.MaxHeaderListSize, HpackDecoder.DefaultMaxHeaderListSize);
        var start = new byte[Preface.Length + FrameHeader.Size + settings.Length + FrameHeader.Size + 4];
        Preface.CopyTo(start, 0);
        var position = Preface.Length;
        new FrameHeader(settings.Length, FrameType.Settings, 0, 0).WriteTo(start.AsSpan(position));
        settings.CopyTo(start, position + FrameHeader.Size);
        position += FrameHeader.Size + settings.Length;
        var increment = _settings.ConnectionWindowSize - 65_535;
        new FrameHeader(4, FrameType.WindowUpdate, 0, 0).WriteTo(start.AsSpan(position));
        BinaryPrimitives.WriteUInt32BigEndian(start.AsSpan(position + FrameHeader.Size), (uint)increment);
        _connectionReceiveWindow += increment;
        await _transport.WriteAsync(start, cancellationToken).ConfigureAwait(false);
        _readLoop = Task.Run(ReadLoopAsync);
        if (_keepAlive.Enabled) _ = Task.Run(() => _keepAlive.RunAsync(_closing.Token));
    }

    /// <summary>Opens a stream and sends its HEADERS; null when this connection cannot take another stream.</summary>
    public async Task<Http2Stream?> TryStartStreamAsync(HttpRequestMessage request, byte[] headerBlock, bool endStream, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Http2Stream stream;
            lock (_sync)
            {
                // Stream ids must reach the server in increasing order, so the id is taken under the write lock.
                if (_failure is not null || _goingAway || _streams.Count >= _peerMaxConcurrentStreams || _nextStreamId >= int.MaxValue - 2) return null;
                stream = new Http2Stream(this, _nextStreamId, _peerInitialWindow, request) { ReceiveWindow = _settings.StreamWindowSize };
                _nextStreamId += 2;
                _streams.Add(stream.Id, stream);
            }
            var remaining = headerBlock.AsMemory();
            var type = FrameType.Headers;
            do
            {
                var length = Math.Min(remaining.Length, _peerMaxFrameSize);
                var last = length == remaining.Length;
                var flags = (byte)((last ? FrameFlags.EndHeaders : 0) | (type == FrameType.Headers && endStream ? FrameFlags.EndStream : 0));
                await WriteFrameLockedAsync(new FrameHeader(length, type, flags, stream.Id), remaining[..length]).ConfigureAwait(false);
                remaining = remaining[length..];
                type = FrameType.Continuation;
            } while (!remaining.IsEmpty);
            if (endStream) CloseLocal(stream);
            return stream;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw Abort(ex);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Sends request body bytes as DATA frames within the flow-control windows.</summary>
    public async Task SendDataAsync(Http2Stream stream, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            var granted = await ReserveSendWindowAsync(stream, data.Length, cancellationToken).ConfigureAwait(false);
            if (granted == 0) return; // the response is complete and the server closed the stream: the rest is not wanted.
            await AcquireWriteLockAsync().ConfigureAwait(false);
            bool open;
            try
            {
                open = IsOpen(stream);
                if (open) await WriteFrameLockedAsync(new FrameHeader(granted, FrameType.Data, 0, stream.Id), data[..granted]).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                throw Abort(ex);
            }
            finally
            {
                _writeLock.Release();
            }
            if (!open)
            {
                // Only this stream is gone (reset, refused or finished): give its share back to the others.
                lock (_sync) _sendWindows.GiveBack(granted);
                ThrowIfStreamGone(stream);
                return;
            }
            data = data[granted..];
        }
    }

    /// <summary>Ends the request body (an empty DATA frame with END_STREAM).</summary>
    public async Task EndRequestAsync(Http2Stream stream)
    {
        await AcquireWriteLockAsync().ConfigureAwait(false);
        try
        {
            if (!IsOpen(stream)) return;
            await WriteFrameLockedAsync(new FrameHeader(0, FrameType.Data, FrameFlags.EndStream, stream.Id), ReadOnlyMemory<byte>.Empty).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            throw Abort(ex);
        }
        finally
        {
            _writeLock.Release();
        }
        CloseLocal(stream);
    }

    /// <summary>Takes the write lock; a connection that is closing reports its failure (UNAVAILABLE), not a cancellation.</summary>
    private async ValueTask AcquireWriteLockAsync()
    {
        try
        {
            await _writeLock.WaitAsync(_closing.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Exception? failure;
            lock (_sync) failure = _failure;
            throw failure ?? new HttpRequestException(HttpRequestError.ConnectionError, $"The connection to {_authority} is closing.");
        }
    }

    /// <summary>Waits until both windows allow sending; returns how many bytes may go in the next frame (0: stop sending quietly).</summary>
    private async ValueTask<int> ReserveSendWindowAsync(Http2Stream stream, int wanted, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task changed;
            lock (_sync)
            {
                if (_failure is not null) throw _failure;
                if (!_streams.ContainsKey(stream.Id))
                {
                    ThrowIfStreamGone(stream);
                    return 0;
                }
                var granted = _sendWindows.TryTake(stream, wanted, _peerMaxFrameSize);
                if (granted > 0) return granted;
                changed = _sendWindows.Changed;
            }
            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A stream that left the connection: fine if its response ended (the server needs no more), an error otherwise.</summary>
    private void ThrowIfStreamGone(Http2Stream stream)
    {
        if (stream.IsResponseEnded) return;
        throw stream.Error ?? _failure ?? new HttpProtocolException(Http2ErrorCode.StreamClosed, "The HTTP/2 stream is closed.", null);
    }

    private bool IsOpen(Http2Stream stream)
    {
        lock (_sync) return _failure is null && _streams.ContainsKey(stream.Id) && !stream.LocalClosed;
    }

    /// <summary>Writes one frame; the caller holds the write lock.</summary>
    private ValueTask WriteFrameLockedAsync(FrameHeader header, ReadOnlyMemory<byte> payload) => _frameWriter.WriteAsync(header, payload, _closing.Token);

    /// <summary>Sends a small control frame without making the caller (often the read loop) wait for the write lock.</summary>
    private void QueueControlFrame(FrameType type, byte flags, int streamId, byte[] payload) => _ = WriteControlFrameAsync(type, flags, streamId, payload);

    private async Task WriteControlFrameAsync(FrameType type, byte flags, int streamId, byte[] payload)
    {
        try
        {
            await _writeLock.WaitAsync(_closing.Token).ConfigureAwait(false);
            try
            {
                await WriteFrameLockedAsync(new FrameHeader(payload.Length, type, flags, streamId), payload).ConfigureAwait(false);
            }
            finally
            {
                _writeLock.Release();
            }
        }
        catch (Exception ex)
        {
            Abort(ex);
        }
    }

    /// <summary>The reader consumed <paramref name="count"/> received bytes of the stream (null: bytes nobody reads): grant the server more window when due.</summary>
    public void OnConsumed(Http2Stream? stream, int count)
    {
        int connectionIncrement = 0, streamIncrement = 0;
        lock (_sync)
        {
            if (_failure is not null) return;
            _connectionUnacknowledged += count;
            if (_connectionUnacknowledged >= _settings.ConnectionWindowSize / 4)
            {
                connectionIncrement = _connectionUnacknowledged;
                _connectionUnacknowledged = 0;
                _connectionReceiveWindow += connectionIncrement;
            }
            if (stream is not null && !stream.RemoteClosed && _streams.ContainsKey(stream.Id))
            {
                streamIncrement = stream.AddConsumed(count, _settings.StreamWindowSize / 4);
                stream.ReceiveWindow += streamIncrement;
            }
        }
        if (connectionIncrement > 0) QueueControlFrame(FrameType.WindowUpdate, 0, 0, Http2FrameWriter.UInt32Payload((uint)connectionIncrement));
        if (streamIncrement > 0) QueueControlFrame(FrameType.WindowUpdate, 0, stream!.Id, Http2FrameWriter.UInt32Payload((uint)streamIncrement));
    }

    /// <summary>Ends a stream from our side with RST_STREAM and fails whatever still waits on it.</summary>
    public void ResetStream(Http2Stream stream, int errorCode, Exception error)
    {
        bool removed;
        lock (_sync)
        {
            removed = _streams.Remove(stream.Id);
            stream.LocalClosed = stream.RemoteClosed = true;
            _sendWindows.Pulse();
        }
        if (removed && _failure is null) QueueControlFrame(FrameType.RstStream, 0, stream.Id, Http2FrameWriter.UInt32Payload((uint)errorCode));
        stream.Fail(error);
        stream.ReleaseBuffers();
        if (removed) stream.OnRemoved();
        CloseIfDrained();
    }

    /// <summary>The response object was disposed: a stream still open is cancelled, a finished one is forgotten.</summary>
    public void OnResponseDisposed(Http2Stream stream)
    {
        bool open;
        lock (_sync) open = _streams.ContainsKey(stream.Id);
        if (open) ResetStream(stream, Http2ErrorCode.Cancel, new ObjectDisposedException("HttpResponseMessage", "The response was disposed."));
        else stream.ReleaseBuffers();
    }

    private void CloseLocal(Http2Stream stream)
    {
        lock (_sync)
        {
            stream.LocalClosed = true;
            if (!stream.RemoteClosed) return;
        }
        RemoveClosed(stream);
    }

    private void CloseRemote(Http2Stream stream)
    {
        lock (_sync)
        {
            stream.RemoteClosed = true;
            if (!stream.LocalClosed) return;
        }
        RemoveClosed(stream);
    }

    private void RemoveClosed(Http2Stream stream)
    {
        bool removed;
        lock (_sync) removed = _streams.Remove(stream.Id);
        if (removed) stream.OnRemoved();
        CloseIfDrained();
    }

    /// <summary>After GOAWAY, the connection closes once its last stream is done.</summary>
    private void CloseIfDrained()
    {
        bool close;
        lock (_sync) close = _goingAway && _failure is null && _streams.Count == 0;
        if (close) Abort(new HttpRequestException(HttpRequestError.ConnectionError, $"The server at {_authority} closed the connection (GOAWAY)."));
    }

    /// <summary>Ends the connection: every open stream fails with the returned error (the first failure stands).</summary>
    public Exception Abort(Exception reason)
    {
        List<Http2Stream> streams;
        Exception failure;
        lock (_sync)
        {
            if (_failure is not null) return _failure;
            failure = _failure = reason switch
            {
                HttpRequestException => reason,
                Http2ConnectionException protocol => new HttpRequestException(HttpRequestError.InvalidResponse,
                    $"The server at {_authority} broke the HTTP/2 protocol: {protocol.Message}", protocol),
                ObjectDisposedException or OperationCanceledException when _closing.IsCancellationRequested =>
                    new HttpRequestException(HttpRequestError.ConnectionError, $"The connection to {_authority} was closed by the client."),
                _ => new HttpRequestException(HttpRequestError.ConnectionError, $"The connection to {_authority} was lost: {reason.Message}", reason),
            };
            streams = [.. _streams.Values];
            _streams.Clear();
            _sendWindows.Pulse();
        }
        if (reason is Http2ConnectionException error) _ = SendGoAwayAndCloseAsync(error.ErrorCode, error.Message);
        else Close();
        foreach (var stream in streams)
        {
            stream.Fail(failure);
            stream.OnRemoved();
        }
        _onClosed(this);
        return failure;
    }

    /// <summary>Tells the server why we leave (best effort, briefly), then closes.</summary>
    private async Task SendGoAwayAndCloseAsync(int errorCode, string message)
    {
        try
        {
            var payload = Http2FrameWriter.GoAwayPayload(0, errorCode, message);
            if (await _writeLock.WaitAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false))
            {
                try
                {
                    await _frameWriter.WriteAsync(new FrameHeader(payload.Length, FrameType.GoAway, 0, 0), payload, CancellationToken.None).AsTask()
                        .WaitAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
                }
                finally
                {
                    _writeLock.Release();
                }
            }
        }
        catch (Exception)
        {
            // The connection is going away regardless; the GOAWAY was only a courtesy.
        }
        Close();
    }

    private void Close()
    {
        try
        {
            _closing.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
        _transport.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        _closing.Cancel();
        Abort(new ObjectDisposedException(nameof(Http2Connection)));
        try
        {
            await _readLoop.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The read loop ends with the transport; its error is already recorded.
        }
    }
}

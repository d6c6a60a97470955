using System.Buffers;
using System.Buffers.Binary;
using Microsoft.Extensions.Logging;

namespace ParallelNet.Rpc.Internal.Http2;

/// <summary>The read side: one loop parses the client's frames and reads DATA payloads into waiting message buffers or the request pipes.</summary>
internal sealed partial class Http2ServerConnection
{
    private static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    private readonly Http2FrameReader _frameReader;
    private readonly Http2HeaderBlockAssembler _headerBlocks;
    private readonly HpackDecoder _decoder = new();
    private long _connectionReceiveWindow = 65_535;
    private int _lastStreamId;

    /// <summary>Serves the connection until the client closes it, breaks the protocol, or the server aborts it.</summary>
    public async Task RunAsync()
    {
        try
        {
            await _frameReader.FillAsync(Preface.Length, _closing.Token).ConfigureAwait(false);
            if (!_frameReader.Take(Preface.Length).SequenceEqual(Preface))
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError,
                    "it did not start with the HTTP/2 connection preface (this port speaks HTTP/2 only: h2c with prior knowledge, or h2 over TLS).");
            await SendSettingsAsync().ConfigureAwait(false);
            if (_keepAlive.Enabled) _ = Task.Run(() => _keepAlive.RunAsync(_closing.Token));
            var first = true;
            while (await _frameReader.ReadHeaderAsync(_closing.Token).ConfigureAwait(false) is { } header)
            {
                _keepAlive.OnFrameReceived();
                if (first && header.Type != FrameType.Settings)
                    throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "its first frame was not SETTINGS.");
                first = false;
                if (header.Length > MaxFrameSize)
                    throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"it sent a {header.Type} frame of {header.Length} bytes; at most {MaxFrameSize} were allowed.");
                if (_headerBlocks.InProgress && header.Type != FrameType.Continuation)
                    throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"it sent a {header.Type} frame in the middle of a header block (CONTINUATION expected).");
                if (header.Type == FrameType.Data)
                {
                    await ReceiveDataAsync(header).ConfigureAwait(false);
                    continue;
                }
                var (payload, rented) = await _frameReader.ReadPayloadAsync(header.Length, _closing.Token).ConfigureAwait(false);
                try
                {
                    HandleFrame(header, payload);
                }
                finally
                {
                    if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
                }
            }
            _logger.LogDebug("The client at {Peer} closed its HTTP/2 connection.", Peer);
        }
        catch (Http2ConnectionException ex)
        {
            _logger.LogWarning("Closing the HTTP/2 connection from {Peer}: {Reason}", Peer, "the client broke the protocol: " + ex.Message);
            await SendGoAwayAsync(ex.ErrorCode, ex.Message).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException or OperationCanceledException)
        {
            _logger.LogDebug(ex, "The HTTP/2 connection from {Peer} ended.", Peer);
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "The HTTP/2 connection from {Peer} failed.", Peer);
        }
        finally
        {
            Http2ServerStream[] open;
            lock (_sync)
            {
                open = [.. _streams.Values];
                foreach (var stream in open) stream.LocalClosed = stream.RemoteClosed = true;
                _sendWindows.Pulse();
            }
            foreach (var stream in open) stream.Fail($"The connection from {Peer} closed before the call ended.");
            Abort();
        }
    }

    private async Task SendSettingsAsync()
    {
        var settings = new byte[4 * 6];
        Http2FrameWriter.WriteSetting(settings.AsSpan(0), SettingId.MaxConcurrentStreams, MaxConcurrentStreams);
        Http2FrameWriter.WriteSetting(settings.AsSpan(6), SettingId.InitialWindowSize, (uint)_settings.StreamWindowSize);
        Http2FrameWriter.WriteSetting(settings.AsSpan(12), SettingId.MaxFrameSize, MaxFrameSize);
        Http2FrameWriter.WriteSetting(settings.AsSpan(18), SettingId.MaxHeaderListSize, HpackDecoder.DefaultMaxHeaderListSize);
        var increment = _settings.ConnectionWindowSize - 65_535;
        lock (_sync) _connectionReceiveWindow += increment;
        await _writeLock.WaitAsync(_closing.Token).ConfigureAwait(false);
        try
        {
            await _frameWriter.WriteAsync(new FrameHeader(settings.Length, FrameType.Settings, 0, 0), settings, _closing.Token).ConfigureAwait(false);
            if (increment > 0)
                await _frameWriter.WriteAsync(new FrameHeader(4, FrameType.WindowUpdate, 0, 0), Http2FrameWriter.UInt32Payload((uint)increment), _closing.Token)
                    .ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task SendGoAwayAsync(int errorCode, string message)
    {
        int lastStreamId;
        lock (_sync) lastStreamId = _lastStreamId;
        await WriteControlFrameAsync(FrameType.GoAway, 0, 0, Http2FrameWriter.GoAwayPayload(lastStreamId, errorCode, message)).ConfigureAwait(false);
    }

    private async ValueTask ReceiveDataAsync(FrameHeader header)
    {
        if (header.StreamId == 0) throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "it sent a DATA frame on stream 0.");
        Http2ServerStream? stream;
        lock (_sync)
        {
            _connectionReceiveWindow -= header.Length;
            if (_connectionReceiveWindow < 0)
                throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, "it sent more DATA than the connection window allowed.");
            if (_streams.TryGetValue(header.StreamId, out stream) && !stream.RemoteClosed)
            {
                stream.ReceiveWindow -= header.Length;
                if (stream.ReceiveWindow < 0)
                    throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, $"it sent more DATA on stream {header.StreamId} than its window allowed.");
            }
            else
            {
                stream = null;
            }
        }
        if (stream is null)
        {
            if (header.StreamId > _lastStreamId || header.StreamId % 2 == 0)
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"it sent DATA on stream {header.StreamId}, which it never opened.");
            // A stream that ended or was reset: the bytes are dropped, but they still free connection window.
            await _frameReader.SkipAsync(header.Length, _closing.Token).ConfigureAwait(false);
            OnConsumed(null, header.Length);
            return;
        }
        var length = header.Length;
        var padding = 0;
        if (header.Has(FrameFlags.Padded))
        {
            if (length == 0) throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "it sent a padded DATA frame without a pad length.");
            await _frameReader.FillAsync(1, _closing.Token).ConfigureAwait(false);
            padding = _frameReader.Take(1)[0];
            length -= 1;
            if (padding > length) throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "it sent a DATA frame whose padding is longer than the frame.");
            length -= padding;
        }
        var piped = false;
        for (var remaining = length; remaining > 0;)
        {
            var direct = stream.ClaimDirectTarget(remaining);
            int read;
            if (!direct.IsEmpty)
            {
                // The call waits for a large message: the socket fills its buffer, with no pipe copy in between.
                read = 0;
                try
                {
                    read = await _frameReader.ReadSomeAsync(direct, _closing.Token).ConfigureAwait(false);
                }
                finally
                {
                    stream.CommitDirect(read);
                }
            }
            else
            {
                var target = stream.GetBodyMemory();
                read = await _frameReader.ReadSomeAsync(target[..Math.Min(target.Length, remaining)], _closing.Token).ConfigureAwait(false);
                stream.CommitBody(read);
                piped = true;
            }
            remaining -= read;
        }
        if (piped) stream.PublishBody();
        if (padding > 0 || header.Has(FrameFlags.Padded))
        {
            await _frameReader.SkipAsync(padding, _closing.Token).ConfigureAwait(false);
            OnConsumed(stream, padding + 1);
        }
        if (header.Has(FrameFlags.EndStream)) EndRequest(stream);
    }

    private void EndRequest(Http2ServerStream stream)
    {
        lock (_sync)
        {
            if (stream.RemoteClosed) return;
            stream.RemoteClosed = true;
        }
        stream.EndOfBody();
    }

    private void HandleFrame(FrameHeader header, ReadOnlySpan<byte> payload)
    {
        switch (header.Type)
        {
            case FrameType.Headers:
                _headerBlocks.OnHeaders(header, payload);
                break;
            case FrameType.Continuation:
                _headerBlocks.OnContinuation(header, payload);
                break;
            case FrameType.Priority:
                Http2FrameChecks.CheckPriority(header);
                break;
            case FrameType.RstStream:
                OnRstStream(header, payload);
                break;
            case FrameType.Settings:
                OnSettings(header, payload);
                break;
            case FrameType.PushPromise:
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "it sent PUSH_PROMISE; only servers push.");
            case FrameType.Ping:
                Http2FrameChecks.CheckPing(header);
                if (header.Has(FrameFlags.Ack)) _keepAlive.OnPingAcknowledged();
                else QueueControlFrame(FrameType.Ping, FrameFlags.Ack, 0, payload.ToArray());
                break;
            case FrameType.GoAway:
                if (header.StreamId != 0) throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "it sent GOAWAY on a stream.");
                // The client opens no more streams; those in flight finish, then it closes the connection.
                break;
            case FrameType.WindowUpdate:
                OnWindowUpdate(header, payload);
                break;
            default:
                // Unknown frame types must be ignored (RFC 9113 4.1).
                break;
        }
    }

    private void OnHeaderBlock(int streamId, ReadOnlySpan<byte> block, bool endStream)
    {
        List<(string Name, string Value)> fields;
        try
        {
            // Decoded even for streams we no longer track: the dynamic table must follow every block.
            fields = _decoder.Decode(block);
        }
        catch (HpackException ex)
        {
            throw new Http2ConnectionException(Http2ErrorCode.CompressionError, $"its header block cannot be decoded ({ex.Message})");
        }
        Http2ServerStream? existing;
        lock (_sync) _streams.TryGetValue(streamId, out existing);
        if (existing is not null)
        {
            // Request trailers: gRPC clients send none, but they are legal when they end the stream.
            if (endStream) EndRequest(existing);
            else ResetStream(existing, Http2ErrorCode.ProtocolError, "the client sent a second header block without ending the stream");
            return;
        }
        if (streamId % 2 == 0 || streamId <= _lastStreamId)
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"it sent HEADERS on stream {streamId}, which is not a new client stream.");
        Http2ServerStream stream;
        lock (_sync)
        {
            _lastStreamId = streamId;
            if (_goingAway || _streams.Count >= MaxConcurrentStreams)
            {
                QueueControlFrame(FrameType.RstStream, 0, streamId, Http2FrameWriter.UInt32Payload(Http2ErrorCode.RefusedStream));
                return;
            }
            if (!HasRequestPseudoHeaders(fields))
            {
                _logger.LogWarning("Refused HTTP/2 stream {StreamId} from {Peer}: the request lacks :method, :scheme or :path.", streamId, Peer);
                QueueControlFrame(FrameType.RstStream, 0, streamId, Http2FrameWriter.UInt32Payload(Http2ErrorCode.ProtocolError));
                return;
            }
            stream = new Http2ServerStream(this, streamId, fields, _peerInitialWindow, _settings.StreamWindowSize, _settings.BodyPool);
            _streams.Add(streamId, stream);
            _runningCalls++;
        }
        if (endStream) EndRequest(stream);
        _ = Task.Run(() => RunCallAsync(stream));
    }

    private static bool HasRequestPseudoHeaders(List<(string Name, string Value)> fields) =>
        fields.Exists(f => f.Name == ":method") && fields.Exists(f => f.Name == ":scheme") && fields.Exists(f => f.Name == ":path" && f.Value.Length > 0);

    private void OnRstStream(FrameHeader header, ReadOnlySpan<byte> payload)
    {
        var code = Http2FrameChecks.ReadRstStream(header, payload);
        Http2ServerStream? stream;
        lock (_sync)
        {
            if (!_streams.TryGetValue(header.StreamId, out stream)) return;
            stream.LocalClosed = stream.RemoteClosed = true;
            _sendWindows.Pulse();
        }
        _logger.LogDebug("The client at {Peer} reset HTTP/2 stream {StreamId} (error code {ErrorCode}).", Peer, header.StreamId, code);
        stream.Fail($"The client reset the HTTP/2 stream (error code {code}).");
    }

    private void OnSettings(FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (Http2FrameChecks.ReadSettings(header, payload) is not { } settings) return;
        lock (_sync)
        {
            foreach (var (id, value) in settings)
            {
                if (id == SettingId.InitialWindowSize)
                {
                    var delta = (long)value - _peerInitialWindow;
                    _peerInitialWindow = (int)value;
                    foreach (var stream in _streams.Values) stream.SendWindow = Http2FrameChecks.CheckWindow(stream.SendWindow + delta, "its SETTINGS_INITIAL_WINDOW_SIZE change overflows a stream window.");
                }
                else if (id == SettingId.MaxFrameSize)
                {
                    _peerMaxFrameSize = (int)value;
                }
            }
            _sendWindows.Pulse();
        }
        QueueControlFrame(FrameType.Settings, FrameFlags.Ack, 0, []);
    }

    private void OnWindowUpdate(FrameHeader header, ReadOnlySpan<byte> payload)
    {
        var increment = Http2FrameChecks.ReadWindowIncrement(header, payload);
        Http2ServerStream? broken = null;
        lock (_sync)
        {
            if (header.StreamId == 0)
            {
                _sendWindows.Connection = Http2FrameChecks.CheckWindow(_sendWindows.Connection + increment, "its WINDOW_UPDATE overflows the connection window.");
            }
            else if (_streams.TryGetValue(header.StreamId, out var stream))
            {
                stream.SendWindow += increment;
                if (increment == 0 || stream.SendWindow > FrameHeader.MaxWindowSize) broken = stream;
            }
            _sendWindows.Pulse();
        }
        if (broken is not null)
            ResetStream(broken, increment == 0 ? Http2ErrorCode.ProtocolError : Http2ErrorCode.FlowControlError, $"the client sent an invalid stream WINDOW_UPDATE ({increment})");
    }
}

using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Net;

namespace ParallelNet.Rpc.Internal.Http2;

/// <summary>The read side: one loop parses frames from a pooled buffer and reads large DATA payloads past it.</summary>
internal sealed partial class Http2Connection
{
    private const int ReadBufferSize = 64 * 1024;

    /// <summary>Payload left in the socket beyond this goes into a chunk read straight from the socket, not via the buffer.</summary>
    private const int DirectReadThreshold = 16 * 1024;

    private readonly byte[] _readBuffer = new byte[ReadBufferSize];
    private readonly HpackDecoder _decoder = new();
    private int _readStart;
    private int _readEnd;
    private readonly Http2HeaderBlockAssembler _headerBlocks;

    private async Task ReadLoopAsync()
    {
        try
        {
            var first = true;
            while (true)
            {
                if (!await FillAsync(FrameHeader.Size, endAllowed: true).ConfigureAwait(false))
                    throw new IOException($"The server at {_authority} closed the connection.");
                var header = FrameHeader.Read(_readBuffer.AsSpan(_readStart, FrameHeader.Size));
                _readStart += FrameHeader.Size;
                _keepAlive.OnFrameReceived();
                if (first && header.Type != FrameType.Settings)
                    throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "its first frame was not SETTINGS (is it an HTTP/2 server? h2c needs prior-knowledge support).");
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
                var (payload, rented) = await ReadPayloadAsync(header.Length).ConfigureAwait(false);
                try
                {
                    HandleFrame(header, payload);
                }
                finally
                {
                    if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
                }
            }
        }
        catch (Exception ex)
        {
            Abort(ex);
        }
    }

    /// <summary>Ensures <paramref name="count"/> bytes are buffered; false at a clean end of the connection when allowed.</summary>
    private async ValueTask<bool> FillAsync(int count, bool endAllowed = false)
    {
        if (_readEnd - _readStart >= count) return true;
        if (_readStart > 0)
        {
            _readBuffer.AsSpan(_readStart, _readEnd - _readStart).CopyTo(_readBuffer);
            _readEnd -= _readStart;
            _readStart = 0;
        }
        while (_readEnd < count)
        {
            var read = await _transport.ReadAsync(_readBuffer.AsMemory(_readEnd), _closing.Token).ConfigureAwait(false);
            if (read == 0)
            {
                if (endAllowed && _readEnd == 0) return false;
                throw new IOException($"The server at {_authority} closed the connection in the middle of a frame.");
            }
            _readEnd += read;
        }
        return true;
    }

    /// <summary>A whole frame payload: a slice of the read buffer (consumed here) or, when larger, a rented array to return.</summary>
    private async ValueTask<(ArraySegment<byte> Payload, byte[]? Rented)> ReadPayloadAsync(int length)
    {
        if (length <= ReadBufferSize)
        {
            await FillAsync(length).ConfigureAwait(false);
            var slice = new ArraySegment<byte>(_readBuffer, _readStart, length);
            _readStart += length;
            return (slice, null);
        }
        var rented = ArrayPool<byte>.Shared.Rent(length);
        var buffered = _readEnd - _readStart;
        _readBuffer.AsSpan(_readStart, buffered).CopyTo(rented);
        _readStart = _readEnd = 0;
        await _transport.ReadExactlyAsync(rented.AsMemory(buffered, length - buffered), _closing.Token).ConfigureAwait(false);
        return (new ArraySegment<byte>(rented, 0, length), rented);
    }

    private async ValueTask SkipAsync(int length)
    {
        while (length > 0)
        {
            if (_readEnd == _readStart) await FillAsync(1).ConfigureAwait(false);
            var skipped = Math.Min(length, _readEnd - _readStart);
            _readStart += skipped;
            length -= skipped;
        }
    }

    private async ValueTask ReceiveDataAsync(FrameHeader header)
    {
        if (header.StreamId == 0) throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "it sent a DATA frame on stream 0.");
        Http2Stream? stream;
        lock (_sync)
        {
            _connectionReceiveWindow -= header.Length;
            if (_connectionReceiveWindow < 0)
                throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, "it sent more DATA than the connection window allowed.");
            _streams.TryGetValue(header.StreamId, out stream);
            if (stream is not null)
            {
                stream.ReceiveWindow -= header.Length;
                if (stream.ReceiveWindow < 0)
                    throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, $"it sent more DATA on stream {header.StreamId} than its window allowed.");
            }
        }
        if (stream is null || stream.RemoteClosed || !stream.HasResponse)
        {
            if (header.StreamId >= _nextStreamId || header.StreamId % 2 == 0)
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"it sent DATA on stream {header.StreamId}, which the client never opened.");
            await SkipAsync(header.Length).ConfigureAwait(false);
            if (stream is not null && !stream.RemoteClosed)
                ResetStream(stream, Http2ErrorCode.ProtocolError, new HttpRequestException(HttpRequestError.InvalidResponse,
                    $"The server at {_authority} sent response DATA before the response headers."));
            // Bytes nobody will read still free connection window.
            OnConsumed(null, header.Length);
            return;
        }
        if (header.Has(FrameFlags.Padded))
        {
            var (payload, rented) = await ReadPayloadAsync(header.Length).ConfigureAwait(false);
            try
            {
                var padding = header.Length == 0 ? -1 : payload[0];
                if (padding < 0 || padding >= header.Length)
                    throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "it sent a DATA frame whose padding is longer than the frame.");
                stream.Deliver(payload.AsSpan(1, header.Length - 1 - padding));
                OnConsumed(stream, padding + 1);
            }
            finally
            {
                if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
            }
        }
        else
        {
            await DeliverDataAsync(stream, header.Length).ConfigureAwait(false);
        }
        if (header.Has(FrameFlags.EndStream))
        {
            stream.EndOfData();
            CloseRemote(stream);
        }
    }

    /// <summary>Hands a DATA payload to the stream: buffered bytes by copy, the rest read from the socket into the waiting reader's memory or a chunk.</summary>
    private async ValueTask DeliverDataAsync(Http2Stream stream, int length)
    {
        var remaining = length;
        while (remaining > 0)
        {
            var buffered = _readEnd - _readStart;
            if (buffered > 0)
            {
                var taken = Math.Min(buffered, remaining);
                stream.Deliver(_readBuffer.AsSpan(_readStart, taken));
                _readStart += taken;
                remaining -= taken;
                continue;
            }
            var target = stream.ClaimDirectTarget(remaining);
            if (!target.IsEmpty)
            {
                var read = 0;
                try
                {
                    read = await _transport.ReadAsync(target, _closing.Token).ConfigureAwait(false);
                }
                finally
                {
                    stream.CommitDirect(read);
                }
                if (read == 0) throw new IOException($"The server at {_authority} closed the connection in the middle of a DATA frame.");
                remaining -= read;
                continue;
            }
            if (remaining >= DirectReadThreshold)
            {
                var size = Math.Min(remaining, MaxFrameSize);
                var chunk = ArrayPool<byte>.Shared.Rent(size);
                try
                {
                    await _transport.ReadExactlyAsync(chunk.AsMemory(0, size), _closing.Token).ConfigureAwait(false);
                }
                catch
                {
                    ArrayPool<byte>.Shared.Return(chunk);
                    throw;
                }
                stream.Enqueue(chunk, size);
                remaining -= size;
                continue;
            }
            _readStart = _readEnd = 0;
            await FillAsync(1).ConfigureAwait(false);
        }
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
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "it sent PUSH_PROMISE although the client disabled server push.");
            case FrameType.Ping:
                OnPing(header, payload);
                break;
            case FrameType.GoAway:
                OnGoAway(header, payload);
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
        if (streamId % 2 == 0 || streamId >= _nextStreamId)
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"it sent HEADERS on stream {streamId}, which the client never opened.");
        Http2Stream? stream;
        lock (_sync) _streams.TryGetValue(streamId, out stream);
        if (stream is null || stream.RemoteClosed) return;
        if (!stream.HasResponse)
        {
            var statusText = fields.Find(f => f.Name == ":status").Value;
            if (!int.TryParse(statusText, NumberStyles.None, CultureInfo.InvariantCulture, out var status) || status is < 100 or > 999)
            {
                ResetStream(stream, Http2ErrorCode.ProtocolError, new HttpRequestException(HttpRequestError.InvalidResponse,
                    $"The server at {_authority} sent response headers without a valid :status ('{statusText}')."));
                return;
            }
            if (status < 200)
            {
                if (endStream) ResetStream(stream, Http2ErrorCode.ProtocolError, new HttpRequestException(HttpRequestError.InvalidResponse,
                    $"The server at {_authority} ended the stream with an informational {status} response."));
                return;
            }
            stream.OnResponseHeaders((HttpStatusCode)status, fields, endStream);
        }
        else if (!endStream)
        {
            ResetStream(stream, Http2ErrorCode.ProtocolError, new HttpRequestException(HttpRequestError.InvalidResponse,
                $"The server at {_authority} sent trailers without ending the stream."));
            return;
        }
        else
        {
            stream.OnTrailers(fields);
        }
        if (endStream) CloseRemote(stream);
    }

    private void OnRstStream(FrameHeader header, ReadOnlySpan<byte> payload)
    {
        var code = Http2FrameChecks.ReadRstStream(header, payload);
        Http2Stream? stream;
        lock (_sync)
        {
            if (_streams.Remove(header.StreamId, out stream)) stream.LocalClosed = stream.RemoteClosed = true;
            _sendWindows.Pulse();
        }
        if (stream is null) return;
        stream.OnRemoved();
        // After a complete response the reset only stops the request body (RFC 9113 8.1: NO_ERROR); the response stands.
        if (!stream.IsResponseEnded)
            stream.Fail(new HttpProtocolException(code, $"The server reset the HTTP/2 stream (error code {code}).", null));
        CloseIfDrained();
    }

    private void OnSettings(FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (Http2FrameChecks.ReadSettings(header, payload) is not { } settings) return;
        lock (_sync)
        {
            foreach (var (id, value) in settings)
            {
                switch (id)
                {
                    case SettingId.MaxConcurrentStreams:
                        _peerMaxConcurrentStreams = (int)Math.Min(value, int.MaxValue);
                        break;
                    case SettingId.InitialWindowSize:
                        var delta = (long)value - _peerInitialWindow;
                        _peerInitialWindow = (int)value;
                        foreach (var stream in _streams.Values) stream.SendWindow = Http2FrameChecks.CheckWindow(stream.SendWindow + delta, "its SETTINGS_INITIAL_WINDOW_SIZE change overflows a stream window.");
                        break;
                    case SettingId.MaxFrameSize:
                        _peerMaxFrameSize = (int)value;
                        break;
                }
            }
            _sendWindows.Pulse();
        }
        QueueControlFrame(FrameType.Settings, FrameFlags.Ack, 0, []);
    }

    private void OnPing(FrameHeader header, ReadOnlySpan<byte> payload)
    {
        Http2FrameChecks.CheckPing(header);
        if (header.Has(FrameFlags.Ack)) _keepAlive.OnPingAcknowledged();
        else QueueControlFrame(FrameType.Ping, FrameFlags.Ack, 0, payload.ToArray());
    }

    private void OnGoAway(FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (header.StreamId != 0) throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "it sent GOAWAY on a stream.");
        if (header.Length < 8) throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"it sent a GOAWAY frame of {header.Length} bytes (at least 8 expected).");
        var lastStreamId = (int)(BinaryPrimitives.ReadUInt32BigEndian(payload) & 0x7FFF_FFFF);
        var code = BinaryPrimitives.ReadUInt32BigEndian(payload[4..]);
        var debug = System.Text.Encoding.UTF8.GetString(payload[8..]);
        List<Http2Stream> refused;
        lock (_sync)
        {
            _goingAway = true;
            refused = [.. _streams.Values.Where(s => s.Id > lastStreamId)];
            foreach (var stream in refused) _streams.Remove(stream.Id);
            _sendWindows.Pulse();
        }
        _onClosed(this);
        var reason = $"The server at {_authority} is closing the connection (GOAWAY, error code {code}{(debug.Length > 0 ? ", " + debug : "")}) and did not process this call.";
        foreach (var stream in refused)
        {
            stream.LocalClosed = stream.RemoteClosed = true;
            stream.Fail(new HttpRequestException(HttpRequestError.ConnectionError, reason));
            stream.OnRemoved();
        }
        CloseIfDrained();
    }

    private void OnWindowUpdate(FrameHeader header, ReadOnlySpan<byte> payload)
    {
        var increment = Http2FrameChecks.ReadWindowIncrement(header, payload);
        Http2Stream? broken = null;
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
            ResetStream(broken, increment == 0 ? Http2ErrorCode.ProtocolError : Http2ErrorCode.FlowControlError,
                new HttpRequestException(HttpRequestError.InvalidResponse, $"The server at {_authority} sent an invalid stream WINDOW_UPDATE ({increment})."));
    }
}

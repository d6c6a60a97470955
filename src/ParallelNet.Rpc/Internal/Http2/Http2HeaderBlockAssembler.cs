using System.Buffers;

namespace ParallelNet.Rpc.Internal.Http2;

internal delegate void HeaderBlockHandler(int streamId, ReadOnlySpan<byte> block, bool endStream);

/// <summary>
/// Collects header blocks from HEADERS and CONTINUATION frames (RFC 9113 6.2, 6.10) for either side of a connection,
/// and hands each complete block on. Used by its connection's read loop only.
/// </summary>
internal sealed class Http2HeaderBlockAssembler(HeaderBlockHandler onBlock)
{
    /// <summary>The largest header block (HEADERS plus CONTINUATIONs) accepted.</summary>
    private const int MaxHeaderBlockSize = 1024 * 1024;

    private ArrayBufferWriter<byte>? _block;
    private int _streamId;
    private bool _endsStream;

    /// <summary>A block is open: the next frame must be its CONTINUATION.</summary>
    public bool InProgress => _block is not null;

    public void OnHeaders(FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (header.StreamId == 0) throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "it sent HEADERS on stream 0.");
        var start = 0;
        var padding = 0;
        if (header.Has(FrameFlags.Padded))
        {
            if (payload.IsEmpty) throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, "it sent a padded HEADERS frame without a pad length.");
            padding = payload[0];
            start = 1;
        }
        if (header.Has(FrameFlags.Priority)) start += 5;
        if (start + padding > payload.Length)
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "it sent a HEADERS frame whose padding and priority are longer than the frame.");
        var fragment = payload[start..(payload.Length - padding)];
        if (header.Has(FrameFlags.EndHeaders))
        {
            onBlock(header.StreamId, fragment, header.Has(FrameFlags.EndStream));
            return;
        }
        _block = new ArrayBufferWriter<byte>(Math.Max(fragment.Length * 2, 256));
        _block.Write(fragment);
        _streamId = header.StreamId;
        _endsStream = header.Has(FrameFlags.EndStream);
    }

    public void OnContinuation(FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (_block is null || header.StreamId != _streamId)
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"it sent a CONTINUATION frame on stream {header.StreamId} that continues no header block.");
        if (_block.WrittenCount + payload.Length > MaxHeaderBlockSize)
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"its header block exceeds {MaxHeaderBlockSize} bytes.");
        _block.Write(payload);
        if (!header.Has(FrameFlags.EndHeaders)) return;
        var block = _block;
        _block = null;
        onBlock(_streamId, block.WrittenSpan, _endsStream);
    }
}

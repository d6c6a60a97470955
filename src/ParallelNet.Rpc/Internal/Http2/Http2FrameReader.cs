using System.Buffers;

namespace ParallelNet.Rpc.Internal.Http2;

/// <summary>
/// Reads HTTP/2 frames from a connection through one buffer; large payloads can be read past it, straight into the
/// memory that keeps them. One reader per connection, used by its read loop only.
/// </summary>
internal sealed class Http2FrameReader(Stream transport, string peer)
{
    private const int ReadBufferSize = 64 * 1024;

    /// <summary>Payloads at least this large are read past the buffer, straight into their destination.</summary>
    private const int DirectReadThreshold = 16 * 1024;

    private readonly byte[] _buffer = new byte[ReadBufferSize];
    private int _start;
    private int _end;

    public int BufferedCount => _end - _start;

    /// <summary>Ensures <paramref name="count"/> bytes are buffered; false at a clean end of the connection when allowed.</summary>
    public async ValueTask<bool> FillAsync(int count, CancellationToken cancellationToken, bool endAllowed = false)
    {
        if (_end - _start >= count) return true;
        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }
        while (_end < count)
        {
            var read = await transport.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                if (endAllowed && _end == 0) return false;
                throw new IOException($"{peer} closed the connection in the middle of a frame.");
            }
            _end += read;
        }
        return true;
    }

    /// <summary>Takes <paramref name="count"/> buffered bytes (at most <see cref="BufferedCount"/>).</summary>
    public ReadOnlySpan<byte> Take(int count)
    {
        var taken = _buffer.AsSpan(_start, count);
        _start += count;
        return taken;
    }

    /// <summary>The next frame header; null at a clean end of the connection.</summary>
    public async ValueTask<FrameHeader?> ReadHeaderAsync(CancellationToken cancellationToken)
    {
        if (!await FillAsync(FrameHeader.Size, cancellationToken, endAllowed: true).ConfigureAwait(false)) return null;
        return FrameHeader.Read(Take(FrameHeader.Size));
    }

    /// <summary>A whole frame payload: a slice of the read buffer (consumed here) or, when larger, a rented array to return.</summary>
    public async ValueTask<(ArraySegment<byte> Payload, byte[]? Rented)> ReadPayloadAsync(int length, CancellationToken cancellationToken)
    {
        if (length <= ReadBufferSize)
        {
            await FillAsync(length, cancellationToken).ConfigureAwait(false);
            var slice = new ArraySegment<byte>(_buffer, _start, length);
            _start += length;
            return (slice, null);
        }
        var rented = ArrayPool<byte>.Shared.Rent(length);
        var buffered = _end - _start;
        _buffer.AsSpan(_start, buffered).CopyTo(rented);
        _start = _end = 0;
        await transport.ReadExactlyAsync(rented.AsMemory(buffered, length - buffered), cancellationToken).ConfigureAwait(false);
        return (new ArraySegment<byte>(rented, 0, length), rented);
    }

    public async ValueTask SkipAsync(int length, CancellationToken cancellationToken)
    {
        while (length > 0)
        {
            if (_end == _start) await FillAsync(1, cancellationToken).ConfigureAwait(false);
            var skipped = Math.Min(length, _end - _start);
            _start += skipped;
            length -= skipped;
        }
    }

    /// <summary>
    /// Reads up to <paramref name="destination"/>'s length of the current payload: from the buffer when it holds
    /// bytes, else straight from the socket when the destination is large (returns at least 1).
    /// </summary>
    public async ValueTask<int> ReadSomeAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        // A small payload comes through the buffer, so the frames behind it arrive with the same syscall.
        if (_end == _start && destination.Length < DirectReadThreshold) await FillAsync(1, cancellationToken).ConfigureAwait(false);
        if (_end == _start)
        {
            var read = await transport.ReadAsync(destination, cancellationToken).ConfigureAwait(false);
            if (read == 0) throw new IOException($"{peer} closed the connection in the middle of a DATA frame.");
            return read;
        }
        var taken = Math.Min(destination.Length, _end - _start);
        Take(taken).CopyTo(destination.Span);
        return taken;
    }
}

using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace ParallelNet.Rpc.Internal.Http2;

/// <summary>
/// Writes HTTP/2 frames for either side of a connection: small frames are copied behind their header and sent with
/// one write; large payloads go straight from the caller's memory, header and payload in one gathered send on plain
/// TCP. Not thread-safe: the owner serializes writes with its own lock.
/// </summary>
internal sealed class Http2FrameWriter(Stream transport, Socket? gatherSocket)
{
    /// <summary>Frames up to this size are copied behind their header and sent with one write.</summary>
    private const int SmallFrameCopyLimit = 16 * 1024;

    private readonly byte[] _writeBuffer = new byte[FrameHeader.Size + SmallFrameCopyLimit];
    private readonly byte[] _gatherHeader = new byte[FrameHeader.Size];

    public async ValueTask WriteAsync(FrameHeader header, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        if (payload.Length <= SmallFrameCopyLimit)
        {
            header.WriteTo(_writeBuffer);
            payload.Span.CopyTo(_writeBuffer.AsSpan(FrameHeader.Size));
            await transport.WriteAsync(_writeBuffer.AsMemory(0, FrameHeader.Size + payload.Length), cancellationToken).ConfigureAwait(false);
            return;
        }
        header.WriteTo(_gatherHeader);
        if (gatherSocket is not null && MemoryMarshal.TryGetArray(payload, out var segment))
        {
            var sent = await gatherSocket.SendAsync([new ArraySegment<byte>(_gatherHeader), segment], SocketFlags.None).ConfigureAwait(false);
            var total = FrameHeader.Size + payload.Length;
            // A gathered send normally sends everything; finish by hand if the kernel took less.
            if (sent < FrameHeader.Size)
            {
                await transport.WriteAsync(_gatherHeader.AsMemory(sent), cancellationToken).ConfigureAwait(false);
                sent = FrameHeader.Size;
            }
            if (sent < total) await transport.WriteAsync(payload[(sent - FrameHeader.Size)..], cancellationToken).ConfigureAwait(false);
            return;
        }
        await transport.WriteAsync(_gatherHeader, cancellationToken).ConfigureAwait(false);
        await transport.WriteAsync(payload, cancellationToken).ConfigureAwait(false);
    }

    public static void WriteSetting(Span<byte> destination, ushort id, uint value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, id);
        BinaryPrimitives.WriteUInt32BigEndian(destination[2..], value);
    }

    /// <summary>The 4-byte payload of WINDOW_UPDATE and RST_STREAM.</summary>
    public static byte[] UInt32Payload(uint value)
    {
        var payload = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, value);
        return payload;
    }

    /// <summary>A GOAWAY payload: the last stream processed, the error code and a short reason as debug data.</summary>
    public static byte[] GoAwayPayload(int lastStreamId, int errorCode, string reason)
    {
        var debug = System.Text.Encoding.UTF8.GetBytes(reason);
        var payload = new byte[8 + Math.Min(debug.Length, 256)];
        BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)lastStreamId);
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(4), (uint)errorCode);
        debug.AsSpan(0, payload.Length - 8).CopyTo(payload.AsSpan(8));
        return payload;
    }
}

using System.Buffers.Binary;
using Google.Protobuf;

namespace ParallelNet.Rpc.Internal;

/// <summary>Length-prefixed gRPC messages over HttpClient's request and response streams.</summary>
internal static class StreamMessageFraming
{
    /// <summary>Reads one message; null at a clean end of stream.</summary>
    public static async ValueTask<T?> ReadMessageAsync<T>(Stream stream, MessageParser<T> parser, int maxMessageSize, CancellationToken cancellationToken,
        LentReceiveBuffer? lent = null)
        where T : class, IMessage<T>
    {
        var header = new byte[GrpcProtocol.MessageHeaderSize];
        var read = await ReadAtLeastAsync(stream, header, header.Length, cancellationToken).ConfigureAwait(false);
        if (read == 0) return null;
        if (read < header.Length) throw new RpcException(new Status(StatusCode.Internal, "The response ended in the middle of a message header."));
        if (header[0] == 1)
            throw new RpcException(new Status(StatusCode.Internal, "The response message is flagged as compressed, but no grpc-encoding was negotiated."));
        if (header[0] != 0)
            throw new RpcException(new Status(StatusCode.Internal, $"Invalid message flag byte {header[0]}: only 0 (uncompressed) and 1 (compressed) exist."));
        var length = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1));
        if (length > (uint)maxMessageSize)
            throw new RpcException(new Status(StatusCode.ResourceExhausted, $"Received message of {length} bytes exceeds the limit of {maxMessageSize} bytes."));
        var payload = MessageBufferPool.Shared.Rent((int)length);
        var borrowed = false;
        try
        {
            read = await ReadAtLeastAsync(stream, payload.AsMemory(0, (int)length), (int)length, cancellationToken).ConfigureAwait(false);
            if (read < length) throw new RpcException(new Status(StatusCode.Internal, "The response ended in the middle of a message."));
            try
            {
                return LargeFieldParser.Parse(parser, payload, (int)length, out borrowed);
            }
            catch (InvalidProtocolBufferException ex)
            {
                throw new RpcException(new Status(StatusCode.Internal, "Failed to deserialize the response message."), new Metadata(), ex);
            }
        }
        finally
        {
            if (!borrowed) MessageBufferPool.Shared.Return(payload);
            else lent?.Hold(payload);
        }
    }

    /// <summary>Fills the destination up to <paramref name="minimum"/> bytes, in one wait when the stream supports it.</summary>
    private static ValueTask<int> ReadAtLeastAsync(Stream stream, Memory<byte> destination, int minimum, CancellationToken cancellationToken) =>
        stream is Http2.IMinimumReadStream direct
            ? direct.ReadAtLeastAsync(destination, minimum, cancellationToken)
            : stream.ReadAtLeastAsync(destination, minimum, throwOnEndOfStream: false, cancellationToken);

    /// <summary>Writes one framed message, its large fields straight from their own memory (one flush at the end).</summary>
    public static async ValueTask WriteMessageAsync(Stream stream, FramedMessage framed, CancellationToken cancellationToken)
    {
        foreach (var piece in framed.Pieces) await stream.WriteAsync(piece, cancellationToken).ConfigureAwait(false);
    }
}

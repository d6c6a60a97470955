using System.Buffers;
using System.Buffers.Binary;
using Google.Protobuf;

namespace ParallelNet.Rpc.Internal;

/// <summary>Length-prefixed gRPC messages over HttpClient's request and response streams.</summary>
internal static class StreamMessageFraming
{
    /// <summary>Reads one message; null at a clean end of stream.</summary>
    public static async ValueTask<T?> ReadMessageAsync<T>(Stream stream, MessageParser<T> parser, int maxMessageSize, CancellationToken cancellationToken)
        where T : class, IMessage<T>
    {
        var header = new byte[GrpcProtocol.MessageHeaderSize];
        var read = await stream.ReadAtLeastAsync(header, header.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
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
        try
        {
            read = await stream.ReadAtLeastAsync(payload.AsMemory(0, (int)length), (int)length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            if (read < length) throw new RpcException(new Status(StatusCode.Internal, "The response ended in the middle of a message."));
            try
            {
                return parser.ParseFrom(payload.AsSpan(0, (int)length));
            }
            catch (InvalidProtocolBufferException ex)
            {
                throw new RpcException(new Status(StatusCode.Internal, "Failed to deserialize the response message."), new Metadata(), ex);
            }
        }
        finally
        {
            MessageBufferPool.Shared.Return(payload);
        }
    }

    /// <summary>Serializes one message with its 5-byte prefix into a pooled buffer; return it with ReturnBuffer.</summary>
    public static ArraySegment<byte> Frame(IMessage message, int? maxMessageSize)
    {
        var size = message.CalculateSize();
        if (maxMessageSize is { } max && size > max)
            throw new RpcException(new Status(StatusCode.ResourceExhausted, $"Sending message of {size} bytes exceeds the limit of {max} bytes."));
        var buffer = MessageBufferPool.Shared.Rent(GrpcProtocol.MessageHeaderSize + size);
        buffer[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(1), (uint)size);
        message.WriteTo(buffer.AsSpan(GrpcProtocol.MessageHeaderSize, size));
        return new ArraySegment<byte>(buffer, 0, GrpcProtocol.MessageHeaderSize + size);
    }

    public static void ReturnBuffer(ArraySegment<byte> framed) => MessageBufferPool.Shared.Return(framed.Array!);
}

using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Google.Protobuf;

namespace ParallelNet.Rpc.Internal;

/// <summary>Length-prefixed gRPC messages over request and response pipes (Kestrel's, and our own server's request pipes).</summary>
internal static class PipeMessageFraming
{
    /// <summary>Reads one message; null at a clean end of stream. With <paramref name="direct"/>, a large message's bytes that have not
    /// arrived yet are read straight into its buffer.</summary>
    public static async ValueTask<T?> ReadMessageAsync<T>(PipeReader reader, MessageParser<T> parser, int maxMessageSize, CancellationToken cancellationToken,
        LentReceiveBuffer? lent = null, IDirectBodyTarget? direct = null)
        where T : class, IMessage<T>
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (result.IsCanceled) throw new OperationCanceledException("The request body read was cancelled.");
            if (buffer.Length >= GrpcProtocol.MessageHeaderSize)
            {
                var length = ReadHeader(buffer, maxMessageSize);
                var arrived = buffer.Length >= GrpcProtocol.MessageHeaderSize + length;
                if (arrived && length < LargeFieldParser.BorrowThreshold)
                {
                    var payload = buffer.Slice(GrpcProtocol.MessageHeaderSize, length);
                    try
                    {
                        return Parse(parser, payload);
                    }
                    finally
                    {
                        reader.AdvanceTo(payload.End);
                    }
                }
                if (arrived || !result.IsCompleted)
                {
                    // A large message, or one larger than what has arrived: gather it into one buffer (its large fields
                    // are then borrowed from it, not copied again) as the DATA frames come, consuming them at once so
                    // Kestrel recycles its blocks and keeps the HTTP/2 window open.
                    var consumedHeader = buffer.Slice(GrpcProtocol.MessageHeaderSize);
                    reader.AdvanceTo(consumedHeader.Start);
                    return await ReadLargeMessageAsync(reader, parser, length, cancellationToken, lent, direct).ConfigureAwait(false);
                }
            }
            if (result.IsCompleted)
            {
                if (buffer.Length == 0) return null;
                reader.AdvanceTo(buffer.End);
                throw new RpcException(new Status(StatusCode.Internal, "The request ended in the middle of a message."));
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static async ValueTask<T> ReadLargeMessageAsync<T>(PipeReader reader, MessageParser<T> parser, int length, CancellationToken cancellationToken,
        LentReceiveBuffer? lent, IDirectBodyTarget? direct)
        where T : class, IMessage<T>
    {
        var gathered = MessageBufferPool.Shared.Rent(length);
        var borrowed = false;
        var abandoned = false;
        try
        {
            var filled = 0;
            while (filled < length)
            {
                if (direct is not null)
                {
                    int arrived;
                    try
                    {
                        arrived = await direct.FillAsync(gathered.AsMemory(filled, length - filled), cancellationToken).ConfigureAwait(false);
                    }
                    catch
                    {
                        // The connection may still be reading into the buffer: it must not serve another message.
                        abandoned = true;
                        throw;
                    }
                    filled += arrived;
                    if (arrived > 0) continue;
                }
                var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                if (result.IsCanceled) throw new OperationCanceledException("The request body read was cancelled.");
                var buffer = result.Buffer;
                var take = buffer.Slice(0, Math.Min(buffer.Length, length - filled));
                take.CopyTo(gathered.AsSpan(filled));
                filled += (int)take.Length;
                reader.AdvanceTo(take.End);
                if (filled < length && result.IsCompleted)
                    throw new RpcException(new Status(StatusCode.Internal, "The request ended in the middle of a message."));
            }
            try
            {
                return LargeFieldParser.Parse(parser, gathered, length, out borrowed);
            }
            catch (InvalidProtocolBufferException ex)
            {
                throw DeserializationFailed(ex);
            }
        }
        finally
        {
            if (borrowed) lent?.Hold(gathered);
            else if (!abandoned) MessageBufferPool.Shared.Return(gathered);
        }
    }

    private static T Parse<T>(MessageParser<T> parser, ReadOnlySequence<byte> payload) where T : class, IMessage<T>
    {
        try
        {
            return payload.IsSingleSegment ? parser.ParseFrom(payload.FirstSpan) : parser.ParseFrom(payload);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw DeserializationFailed(ex);
        }
    }

    private static RpcException DeserializationFailed(InvalidProtocolBufferException ex) =>
        new(new Status(StatusCode.Internal, "Failed to deserialize the request message."), new Metadata(), ex);

    private static int ReadHeader(ReadOnlySequence<byte> buffer, int maxMessageSize)
    {
        Span<byte> header = stackalloc byte[GrpcProtocol.MessageHeaderSize];
        buffer.Slice(0, GrpcProtocol.MessageHeaderSize).CopyTo(header);
        if (header[0] == 1)
            throw new RpcException(new Status(StatusCode.Internal, "The request message is flagged as compressed, but no grpc-encoding was negotiated."));
        if (header[0] != 0)
            throw new RpcException(new Status(StatusCode.Internal, $"Invalid message flag byte {header[0]}: only 0 (uncompressed) and 1 (compressed) exist."));
        var length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        if (length > (uint)maxMessageSize)
            throw new RpcException(new Status(StatusCode.ResourceExhausted, $"Received message of {length} bytes exceeds the limit of {maxMessageSize} bytes."));
        return (int)length;
    }

    /// <summary>Writes one framed message into the pipe (the caller flushes).</summary>
    public static void WriteMessage(PipeWriter writer, IMessage message, int? maxMessageSize)
    {
        var size = message.CalculateSize();
        if (maxMessageSize is { } max && size > max)
            throw new RpcException(new Status(StatusCode.ResourceExhausted, $"Sending message of {size} bytes exceeds the limit of {max} bytes."));
        if (size + GrpcProtocol.MessageHeaderSize <= LargeBlockMemoryPool.DefaultBlockSize)
        {
            // One contiguous span from the current pool block: protobuf serializes a flat span fastest.
            var span = writer.GetSpan(GrpcProtocol.MessageHeaderSize + size);
            WriteHeader(span, size);
            message.WriteTo(span.Slice(GrpcProtocol.MessageHeaderSize, size));
            writer.Advance(GrpcProtocol.MessageHeaderSize + size);
            return;
        }
        // A larger message goes straight into the pipe's pooled blocks. Asking for one span of its full size would
        // make the pipe rent it from ArrayPool.Shared, which drops large arrays at every gen-2 GC: fresh pages per message.
        WriteHeader(writer.GetSpan(GrpcProtocol.MessageHeaderSize), size);
        writer.Advance(GrpcProtocol.MessageHeaderSize);
        message.WriteTo(writer);
    }

    private static void WriteHeader(Span<byte> span, int size)
    {
        span[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)size);
    }
}

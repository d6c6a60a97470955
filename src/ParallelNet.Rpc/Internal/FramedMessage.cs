using System.Buffers.Binary;
using System.Collections;
using System.Collections.Concurrent;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace ParallelNet.Rpc.Internal;

/// <summary>
/// A gRPC message ready to send (5-byte prefix and protobuf encoding) as a list of pieces: the small parts serialized
/// into one pooled buffer, the large bytes fields (tensors, also inside nested messages) as the caller's own memory.
/// Serializing a tensor into a buffer first would copy every byte once more before the socket layer copies it again.
/// The pieces hold the same bytes Google.Protobuf would write, except that large fields come after the others in
/// their message; protobuf parsers accept fields in any order. Dispose returns the pooled buffer.
/// </summary>
internal sealed class FramedMessage : IDisposable
{
    private static readonly ConcurrentDictionary<Type, Func<IMessage, IMessage>> Cloners = new();

    private byte[]? _buffer;

    private FramedMessage(byte[] buffer, List<ReadOnlyMemory<byte>> pieces, int length)
    {
        _buffer = buffer;
        Pieces = pieces;
        Length = length;
    }

    public IReadOnlyList<ReadOnlyMemory<byte>> Pieces { get; }

    /// <summary>Prefix and payload together.</summary>
    public int Length { get; }

    public static FramedMessage Create(IMessage message, int? maxMessageSize)
    {
        var size = message.CalculateSize();
        if (maxMessageSize is { } max && size > max)
            throw new RpcException(new Status(StatusCode.ResourceExhausted, $"Sending message of {size} bytes exceeds the limit of {max} bytes."));
        var plan = new List<Step>();
        var smallSize = GrpcProtocol.MessageHeaderSize + (size >= LargeFieldParser.BorrowThreshold ? Plan(message, plan) : AddWhole(message, size, plan));
        var buffer = MessageBufferPool.Shared.Rent(smallSize);
        buffer[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(1), (uint)size);
        var pieces = new List<ReadOnlyMemory<byte>>(plan.Count);
        var written = GrpcProtocol.MessageHeaderSize;
        var pieceStart = 0;
        foreach (var step in plan)
        {
            switch (step.Kind)
            {
                case StepKind.Message:
                    step.Message!.WriteTo(buffer.AsSpan(written, step.Length));
                    written += step.Length;
                    break;
                case StepKind.Header:
                    written += WireScanner.WriteLengthDelimitedHeader(buffer.AsSpan(written), step.FieldNumber, step.Length);
                    break;
                case StepKind.Borrowed:
                    if (written > pieceStart) pieces.Add(new ReadOnlyMemory<byte>(buffer, pieceStart, written - pieceStart));
                    pieces.Add(step.Borrowed);
                    pieceStart = written;
                    break;
            }
        }
        if (written > pieceStart) pieces.Add(new ReadOnlyMemory<byte>(buffer, pieceStart, written - pieceStart));
        return new FramedMessage(buffer, pieces, GrpcProtocol.MessageHeaderSize + size);
    }

    private static int AddWhole(IMessage message, int size, List<Step> plan)
    {
        if (size > 0) plan.Add(new Step(StepKind.Message, message, size, 0, default));
        return size;
    }

    /// <summary>Plans one message's encoding; returns how many of its bytes go into the pooled buffer.</summary>
    private static int Plan(IMessage message, List<Step> plan)
    {
        var descriptor = message.Descriptor;
        List<FieldDescriptor>? moved = null;
        foreach (var field in descriptor.Fields.InFieldNumberOrder())
            if (!field.IsMap && HoldsLargeBytes(field, message)) (moved ??= []).Add(field);
        if (moved is null) return AddWhole(message, message.CalculateSize(), plan);

        var rest = Clone(message);
        foreach (var field in moved) field.Accessor.Clear(rest);
        var small = AddWhole(rest, rest.CalculateSize(), plan);
        foreach (var field in moved)
        {
            var value = field.Accessor.GetValue(message);
            if (field.IsRepeated)
                foreach (var element in (IList)value) small += PlanValue(field, element, plan);
            else
                small += PlanValue(field, value, plan);
        }
        return small;
    }

    private static int PlanValue(FieldDescriptor field, object value, List<Step> plan)
    {
        if (value is ByteString bytes)
        {
            plan.Add(new Step(StepKind.Header, null, bytes.Length, field.FieldNumber, default));
            if (bytes.Length > 0) plan.Add(new Step(StepKind.Borrowed, null, bytes.Length, 0, bytes.Memory));
            return WireScanner.WriteLengthDelimitedHeader(stackalloc byte[WireScanner.MaxLengthDelimitedHeaderSize], field.FieldNumber, bytes.Length);
        }
        var message = (IMessage)value;
        var size = message.CalculateSize();
        plan.Add(new Step(StepKind.Header, null, size, field.FieldNumber, default));
        return WireScanner.WriteLengthDelimitedHeader(stackalloc byte[WireScanner.MaxLengthDelimitedHeaderSize], field.FieldNumber, size)
            + Plan(message, plan);
    }

    /// <summary>Whether the field holds a large bytes value here or somewhere below it.</summary>
    private static bool HoldsLargeBytes(FieldDescriptor field, IMessage message)
    {
        if (field.FieldType is not (FieldType.Bytes or FieldType.Message)) return false;
        var value = field.Accessor.GetValue(message);
        if (!field.IsRepeated) return HoldsLargeBytes(value);
        foreach (var element in (IList)value)
            if (HoldsLargeBytes(element)) return true;
        return false;
    }

    private static bool HoldsLargeBytes(object? value) => value switch
    {
        ByteString bytes => bytes.Length >= LargeFieldParser.BorrowThreshold,
        IMessage message => message.CalculateSize() >= LargeFieldParser.BorrowThreshold
            && message.Descriptor.Fields.InFieldNumberOrder().Any(f => !f.IsMap && HoldsLargeBytes(f, message)),
        _ => false,
    };

    /// <summary>A deep copy through the generated Clone (ByteStrings are immutable and shared, so this stays cheap).</summary>
    private static IMessage Clone(IMessage message) => Cloners.GetOrAdd(message.GetType(), static type =>
    {
        var clone = typeof(IDeepCloneable<>).MakeGenericType(type).GetMethod(nameof(IDeepCloneable<IMessage>.Clone))
            ?? throw new InvalidOperationException($"{type} has no Clone method.");
        return m => (IMessage)clone.Invoke(m, null)!;
    })(message);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } buffer) MessageBufferPool.Shared.Return(buffer);
    }

    private enum StepKind { Message, Header, Borrowed }

    private readonly record struct Step(StepKind Kind, IMessage? Message, int Length, int FieldNumber, ReadOnlyMemory<byte> Borrowed);
}

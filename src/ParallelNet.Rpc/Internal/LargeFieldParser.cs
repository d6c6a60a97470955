using System.Buffers;
using System.Collections;
using System.Collections.Concurrent;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace ParallelNet.Rpc.Internal;

/// <summary>
/// Parses a received message so that its large <c>bytes</c> fields (tensors), also inside nested messages, are views
/// of the receive buffer instead of copies. Google.Protobuf copies every bytes field into a new zeroed array (on the
/// LOH when large): for tensor traffic that copy, the zeroing and the page faults of fresh LOH memory cost more CPU
/// than the loopback socket. Everything but those fields is still parsed by Google.Protobuf, from the buffer with the
/// large fields cut out, so validation and unknown fields behave as before.
/// </summary>
internal static class LargeFieldParser
{
    /// <summary>Fields (and messages) shorter than this are parsed by Google.Protobuf as usual.</summary>
    public const int BorrowThreshold = 32 * 1024;

    /// <summary>Nesting of large messages followed before the rest is left to Google.Protobuf.</summary>
    private const int MaxDepth = 16;

    private const int LengthDelimited = 2;

    private static readonly ConcurrentDictionary<Type, MessageDescriptor> Descriptors = new();

    /// <summary>
    /// Parses buffer[0..length). When <paramref name="borrowed"/> comes back true the message refers to the buffer,
    /// which then belongs to the message: the caller must neither reuse nor return it to a pool.
    /// </summary>
    public static T Parse<T>(MessageParser<T> parser, byte[] buffer, int length, out bool borrowed) where T : IMessage<T>
    {
        var data = new ReadOnlyMemory<byte>(buffer, 0, length);
        if (length >= BorrowThreshold && TryParse(parser, DescriptorOf(parser), data, depth: 0) is T message)
        {
            borrowed = true;
            return message;
        }
        borrowed = false;
        return parser.ParseFrom(data.Span);
    }

    private static MessageDescriptor DescriptorOf<T>(MessageParser<T> parser) where T : IMessage<T> =>
        Descriptors.GetOrAdd(typeof(T), static (_, p) => p.ParseFrom(ReadOnlySpan<byte>.Empty).Descriptor, parser);

    /// <summary>Null when nothing is large enough to borrow, or when the layout is unusual (the caller then parses as usual).</summary>
    private static IMessage? TryParse(MessageParser parser, MessageDescriptor descriptor, ReadOnlyMemory<byte> data, int depth)
    {
        if (depth >= MaxDepth || !WireScanner.TryScan(data.Span, out var fields)) return null;
        var taken = TakenFields(descriptor, fields);
        if (taken is null) return null;

        var message = parser.ParseFrom(Remainder(data, fields, taken));
        foreach (var field in fields)
        {
            if (!taken.Contains(field.Number)) continue;
            var descriptorOfField = descriptor.FindFieldByNumber(field.Number);
            var value = data.Slice(field.ValueStart, field.End - field.ValueStart);
            object parsed = descriptorOfField.FieldType == FieldType.Bytes
                ? UnsafeByteOperations.UnsafeWrap(value)
                : TryParse(descriptorOfField.MessageType.Parser, descriptorOfField.MessageType, value, depth + 1)
                    ?? descriptorOfField.MessageType.Parser.ParseFrom(value.Span);
            if (descriptorOfField.IsRepeated) ((IList)descriptorOfField.Accessor.GetValue(message)).Add(parsed);
            else descriptorOfField.Accessor.SetValue(message, parsed);
        }
        return message;
    }

    /// <summary>
    /// The field numbers whose values are set here rather than by Google.Protobuf: bytes and message fields with a
    /// large occurrence (all occurrences of a repeated one, to keep their order). Null when there are none, or when
    /// setting them after the rest could change the outcome: a singular field that occurs twice (protobuf merges or
    /// lets the last win), a wrong wire type, or another member of its oneof in the same message.
    /// </summary>
    private static HashSet<int>? TakenFields(MessageDescriptor descriptor, List<WireField> fields)
    {
        HashSet<int>? taken = null;
        foreach (var field in fields)
        {
            if (field.WireType != LengthDelimited || field.End - field.ValueStart < BorrowThreshold) continue;
            var fieldDescriptor = descriptor.FindFieldByNumber(field.Number);
            if (fieldDescriptor is null || fieldDescriptor.IsMap || fieldDescriptor.FieldType is not (FieldType.Bytes or FieldType.Message)) continue;
            (taken ??= []).Add(field.Number);
        }
        if (taken is null) return null;
        foreach (var number in taken)
        {
            var fieldDescriptor = descriptor.FindFieldByNumber(number);
            var oneof = fieldDescriptor.RealContainingOneof;
            var occurrences = 0;
            foreach (var field in fields)
            {
                if (field.Number == number)
                {
                    if (field.WireType != LengthDelimited) return null;
                    occurrences++;
                }
                else if (oneof is not null && descriptor.FindFieldByNumber(field.Number)?.RealContainingOneof == oneof) return null;
            }
            if (!fieldDescriptor.IsRepeated && occurrences > 1) return null;
        }
        return taken;
    }

    /// <summary>The message's bytes without the taken fields, as one memory or a chain of slices of it.</summary>
    private static ReadOnlySequence<byte> Remainder(ReadOnlyMemory<byte> data, List<WireField> fields, HashSet<int> taken)
    {
        BufferSegment? first = null, last = null;
        var keptFrom = 0;
        void Keep(int end)
        {
            if (end <= keptFrom) return;
            var piece = data[keptFrom..end];
            if (last is null) first = last = new BufferSegment(piece, 0);
            else last = last.Append(piece);
        }
        foreach (var field in fields)
        {
            if (!taken.Contains(field.Number)) continue;
            Keep(field.Start);
            keptFrom = field.End;
        }
        Keep(data.Length);
        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }

    private sealed class BufferSegment : ReadOnlySequenceSegment<byte>
    {
        public BufferSegment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public BufferSegment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new BufferSegment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}

namespace ParallelNet.Rpc.Internal;

/// <summary>One top-level field of an encoded protobuf message: where its tag starts, where its value starts and ends.</summary>
internal readonly record struct WireField(int Number, int WireType, int Start, int ValueStart, int End);

/// <summary>
/// Walks the top-level fields of an encoded protobuf message without decoding their values. It only has to find the
/// fields; anything it does not understand (groups, malformed input) makes it give up, and Google.Protobuf then
/// parses the message as usual and reports the error if there is one.
/// </summary>
internal static class WireScanner
{
    public static bool TryScan(ReadOnlySpan<byte> message, out List<WireField> fields)
    {
        fields = [];
        var position = 0;
        while (position < message.Length)
        {
            var start = position;
            if (!TryReadVarint(message, ref position, out var tag)) return false;
            var number = tag >> 3;
            var wireType = (int)(tag & 7);
            if (number is 0 or > 536_870_911) return false;
            var valueStart = position;
            switch (wireType)
            {
                case 0:
                    if (!TryReadVarint(message, ref position, out _)) return false;
                    break;
                case 1:
                    position += 8;
                    break;
                case 2:
                    if (!TryReadVarint(message, ref position, out var length) || length > (ulong)(message.Length - position)) return false;
                    valueStart = position;
                    position += (int)length;
                    break;
                case 5:
                    position += 4;
                    break;
                default:
                    return false;
            }
            if (position > message.Length) return false;
            fields.Add(new WireField((int)number, wireType, start, valueStart, position));
        }
        return true;
    }

    private static bool TryReadVarint(ReadOnlySpan<byte> data, ref int position, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= data.Length) return false;
            var b = data[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return true;
        }
        return false;
    }

    /// <summary>Appends a length-delimited field's tag and length (the value follows separately).</summary>
    public static int WriteLengthDelimitedHeader(Span<byte> destination, int fieldNumber, int length)
    {
        var written = WriteVarint(destination, ((uint)fieldNumber << 3) | 2);
        return written + WriteVarint(destination[written..], (uint)length);
    }

    /// <summary>The bytes a tag and length take: at most 5 + 5.</summary>
    public const int MaxLengthDelimitedHeaderSize = 10;

    private static int WriteVarint(Span<byte> destination, uint value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }
        destination[i++] = (byte)value;
        return i;
    }
}

using System.Text;

namespace ParallelNet.Rpc.Internal.Http2;

/// <summary>
/// HPACK encoding of request headers: indexed static entries where they match exactly, otherwise literals without
/// indexing (the static table name when there is one), no Huffman. Never touching the dynamic table keeps the
/// encoder stateless, so one header block cannot disturb another's decoding on the server.
/// </summary>
internal static class HpackEncoder
{
    public static void WriteIndexed(List<byte> block, int staticIndex) => WriteInteger(block, 0x80, 7, staticIndex);

    /// <summary>A literal without indexing whose name is a static table entry.</summary>
    public static void WriteLiteral(List<byte> block, int staticNameIndex, string value)
    {
        WriteInteger(block, 0x00, 4, staticNameIndex);
        WriteString(block, value);
    }

    /// <summary>A literal without indexing with a new name (HTTP/2 names must be lower case).</summary>
    public static void WriteLiteral(List<byte> block, string name, string value)
    {
        block.Add(0x00);
        WriteString(block, name);
        WriteString(block, value);
    }

    public static void WriteInteger(List<byte> block, byte flags, int prefixBits, int value)
    {
        var max = (1 << prefixBits) - 1;
        if (value < max)
        {
            block.Add((byte)(flags | value));
            return;
        }
        block.Add((byte)(flags | max));
        value -= max;
        while (value >= 0x80)
        {
            block.Add((byte)(value & 0x7F | 0x80));
            value >>= 7;
        }
        block.Add((byte)value);
    }

    private static void WriteString(List<byte> block, string value)
    {
        var bytes = Encoding.Latin1.GetBytes(value);
        WriteInteger(block, 0x00, 7, bytes.Length);
        block.AddRange(bytes);
    }
}

using System.Text;

namespace ParallelNet.Rpc.Internal.Http2;

/// <summary>A header block the peer sent that HPACK cannot decode: a connection error (COMPRESSION_ERROR).</summary>
internal sealed class HpackException(string message) : Exception(message);

/// <summary>
/// HPACK decoding (RFC 7541): static and dynamic table, all literal forms, Huffman strings and dynamic table size
/// updates. One decoder per connection, fed the header blocks in the order they arrive.
/// </summary>
internal sealed class HpackDecoder
{
    private readonly int _maxTableSize;
    private readonly int _maxHeaderListSize;
    public const int DefaultTableSize = 4096;
    public const int DefaultMaxHeaderListSize = 256 * 1024;

    /// <summary>Newest first; sizes count name + value + 32 as the RFC says.</summary>
    private readonly LinkedList<(string Name, string Value)> _dynamic = new();
    private int _tableSize;
    private int _tableCapacity;

    /// <summary>The table size limit is the SETTINGS_HEADER_TABLE_SIZE we advertise (4096 unless said otherwise).</summary>
    public HpackDecoder(int maxTableSize = DefaultTableSize, int maxHeaderListSize = DefaultMaxHeaderListSize)
    {
        _maxTableSize = _tableCapacity = maxTableSize;
        _maxHeaderListSize = maxHeaderListSize;
    }

    public int DynamicTableSize => _tableSize;

    public int DynamicTableCount => _dynamic.Count;

    /// <summary>Decodes a complete header block into name/value pairs (names as sent: lower case for HTTP/2).</summary>
    public List<(string Name, string Value)> Decode(ReadOnlySpan<byte> block)
    {
        var headers = new List<(string, string)>();
        var listSize = 0;
        var position = 0;
        var headerSeen = false;
        while (position < block.Length)
        {
            var first = block[position];
            (string Name, string Value) field;
            if ((first & 0x80) != 0)
            {
                field = Lookup(ReadInteger(block, ref position, 7));
            }
            else if ((first & 0xE0) == 0x20)
            {
                // Table size updates are allowed only at the start of a block.
                if (headerSeen) throw new HpackException("HPACK dynamic table size update after a header field.");
                var size = ReadInteger(block, ref position, 5);
                if (size > _maxTableSize) throw new HpackException($"HPACK dynamic table size update to {size} exceeds the limit of {_maxTableSize}.");
                _tableCapacity = size;
                Evict(0);
                continue;
            }
            else
            {
                var incremental = (first & 0xC0) == 0x40;
                var index = ReadInteger(block, ref position, incremental ? 6 : 4);
                var name = index == 0 ? ReadString(block, ref position) : Lookup(index).Name;
                var value = ReadString(block, ref position);
                field = (name, value);
                if (incremental) Insert(field);
            }
            headerSeen = true;
            listSize += field.Name.Length + field.Value.Length + 32;
            if (listSize > _maxHeaderListSize) throw new HpackException($"The header list exceeds {_maxHeaderListSize} bytes.");
            headers.Add(field);
        }
        return headers;
    }

    private (string Name, string Value) Lookup(int index)
    {
        if (index <= 0) throw new HpackException("HPACK index 0 is not valid.");
        if (index <= HpackStaticTable.Count) return HpackStaticTable.Entries[index - 1];
        var dynamicIndex = index - HpackStaticTable.Count - 1;
        if (dynamicIndex >= _dynamic.Count) throw new HpackException($"HPACK index {index} is beyond the tables ({HpackStaticTable.Count + _dynamic.Count} entries).");
        var node = _dynamic.First!;
        for (var i = 0; i < dynamicIndex; i++) node = node.Next!;
        return node.Value;
    }

    private void Insert((string Name, string Value) field)
    {
        var size = EntrySize(field);
        // An entry larger than the table empties it and is not added (RFC 7541 4.4).
        Evict(size);
        if (size > _tableCapacity) return;
        _dynamic.AddFirst(field);
        _tableSize += size;
    }

    private void Evict(int room)
    {
        while (_dynamic.Count > 0 && _tableSize + room > _tableCapacity)
        {
            _tableSize -= EntrySize(_dynamic.Last!.Value);
            _dynamic.RemoveLast();
        }
    }

    /// <summary>Strings hold one Latin-1 char per octet, so the length is the octet count.</summary>
    private static int EntrySize((string Name, string Value) field) => field.Name.Length + field.Value.Length + 32;

    /// <summary>An N-bit prefix integer (RFC 7541 5.1); the position starts at the byte holding the prefix.</summary>
    public static int ReadInteger(ReadOnlySpan<byte> block, ref int position, int prefixBits)
    {
        var max = (1 << prefixBits) - 1;
        var value = block[position++] & max;
        if (value < max) return value;
        var shift = 0;
        while (true)
        {
            if (position >= block.Length) throw new HpackException("HPACK integer truncated.");
            var b = block[position++];
            if (shift > 28 || (long)value + ((long)(b & 0x7F) << shift) > int.MaxValue) throw new HpackException("HPACK integer overflows 31 bits.");
            value += (b & 0x7F) << shift;
            shift += 7;
            if ((b & 0x80) == 0) return value;
        }
    }

    private static string ReadString(ReadOnlySpan<byte> block, ref int position)
    {
        if (position >= block.Length) throw new HpackException("HPACK string missing.");
        var huffman = (block[position] & 0x80) != 0;
        var length = ReadInteger(block, ref position, 7);
        if (length > block.Length - position) throw new HpackException($"HPACK string of {length} bytes runs past the end of the header block.");
        var raw = block.Slice(position, length);
        position += length;
        if (!huffman) return Encoding.Latin1.GetString(raw);
        var decoded = new List<byte>(length * 8 / 5);
        if (!HuffmanCode.TryDecode(raw, decoded)) throw new HpackException("Invalid Huffman-encoded HPACK string.");
        return Encoding.Latin1.GetString(decoded.ToArray());
    }
}

namespace ParallelNet.Rpc.Internal.Http2;

/// <summary>
/// The HPACK Huffman code (RFC 7541 Appendix B). The code is canonical, so the bit length of each symbol's code is
/// enough to rebuild every code: codes of one length are consecutive, in symbol order, and each length continues
/// where the shorter ones ended. Decoding walks a table indexed by length; only servers choose to Huffman-encode
/// (grpcio does), our encoder sends plain literals.
/// </summary>
internal static class HuffmanCode
{
    public const int EndOfString = 256;

    /// <summary>Code length in bits of symbols 0..255 and EOS (256), RFC 7541 Appendix B.</summary>
    private static readonly byte[] Lengths =
    [
        13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
        28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
        6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
        5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
        13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
        7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
        15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
        6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
        20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
        24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
        22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
        21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
        26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
        19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
        20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
        26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
        30,
    ];

    private const int MaxLength = 30;

    /// <summary>Per length: the first code of that length, how many codes have it, and where its symbols start in <see cref="SymbolsByCode"/>.</summary>
    private static readonly (uint FirstCode, int Count, int FirstIndex)[] ByLength;

    /// <summary>Symbols sorted by (length, symbol): the canonical order of the codes.</summary>
    private static readonly short[] SymbolsByCode;

    /// <summary>Each symbol's code, right-aligned.</summary>
    private static readonly uint[] Codes;

    static HuffmanCode()
    {
        SymbolsByCode = new short[Lengths.Length];
        ByLength = new (uint, int, int)[MaxLength + 1];
        Codes = new uint[Lengths.Length];
        var index = 0;
        uint code = 0;
        for (var length = 1; length <= MaxLength; length++)
        {
            var first = index;
            for (var symbol = 0; symbol < Lengths.Length; symbol++)
            {
                if (Lengths[symbol] != length) continue;
                SymbolsByCode[index++] = (short)symbol;
                Codes[symbol] = code + (uint)(index - 1 - first);
            }
            ByLength[length] = (code, index - first, first);
            code = (code + (uint)(index - first)) << 1;
        }
    }

    /// <summary>The code of a symbol, right-aligned, and its length in bits.</summary>
    public static (uint Code, int Length) CodeOf(int symbol) => (Codes[symbol], Lengths[symbol]);

    /// <summary>Decodes a Huffman-encoded string; false for invalid input (EOS inside, padding longer than 7 bits or not all ones).</summary>
    public static bool TryDecode(ReadOnlySpan<byte> source, List<byte> destination)
    {
        uint code = 0;
        var length = 0;
        foreach (var b in source)
        {
            for (var bit = 7; bit >= 0; bit--)
            {
                code = (code << 1) | (uint)((b >> bit) & 1);
                length++;
                var (firstCode, count, firstIndex) = ByLength[length];
                if (count > 0 && code >= firstCode && code - firstCode < (uint)count)
                {
                    var symbol = SymbolsByCode[firstIndex + (int)(code - firstCode)];
                    if (symbol == EndOfString) return false;
                    destination.Add((byte)symbol);
                    code = 0;
                    length = 0;
                }
                else if (length == MaxLength)
                {
                    return false;
                }
            }
        }
        // What is left must be a prefix of EOS: at most 7 bits, all ones.
        return length <= 7 && code == (1u << length) - 1;
    }

    /// <summary>Encodes bytes (used by tests and available to the encoder); returns the encoded length.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> source)
    {
        var output = new List<byte>(source.Length);
        ulong accumulator = 0;
        var bits = 0;
        foreach (var b in source)
        {
            var (code, length) = CodeOf(b);
            accumulator = (accumulator << length) | code;
            bits += length;
            while (bits >= 8)
            {
                bits -= 8;
                output.Add((byte)(accumulator >> bits));
            }
        }
        if (bits > 0) output.Add((byte)((accumulator << (8 - bits)) | (byte)((1 << (8 - bits)) - 1)));
        return output.ToArray();
    }
}

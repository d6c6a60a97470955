using System.Text;
using ParallelNet.Rpc.Internal.Http2;

namespace ParallelNet.Rpc.Tests;

/// <summary>HPACK decoding against the examples of RFC 7541 Appendix C (dynamic table, eviction, Huffman), and the encoder's round trip.</summary>
public sealed class HpackTests
{
    private static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

    private static void AssertHeaders(List<(string Name, string Value)> actual, params (string Name, string Value)[] expected) =>
        Assert.Equal(expected, actual.ToArray());

    [Fact]
    public void Requests_without_Huffman_fill_the_dynamic_table_C3()
    {
        var decoder = new HpackDecoder();
        AssertHeaders(decoder.Decode(Hex("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d")),
            (":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com"));
        Assert.Equal(57, decoder.DynamicTableSize);
        AssertHeaders(decoder.Decode(Hex("8286 84be 5808 6e6f 2d63 6163 6865")),
            (":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com"), ("cache-control", "no-cache"));
        Assert.Equal(110, decoder.DynamicTableSize);
        AssertHeaders(decoder.Decode(Hex("8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65")),
            (":method", "GET"), (":scheme", "https"), (":path", "/index.html"), (":authority", "www.example.com"), ("custom-key", "custom-value"));
        Assert.Equal(164, decoder.DynamicTableSize);
        Assert.Equal(3, decoder.DynamicTableCount);
    }

    [Fact]
    public void Requests_with_Huffman_decode_the_same_C4()
    {
        var decoder = new HpackDecoder();
        AssertHeaders(decoder.Decode(Hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff")),
            (":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com"));
        AssertHeaders(decoder.Decode(Hex("8286 84be 5886 a8eb 1064 9cbf")),
            (":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com"), ("cache-control", "no-cache"));
        AssertHeaders(decoder.Decode(Hex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf")),
            (":method", "GET"), (":scheme", "https"), (":path", "/index.html"), (":authority", "www.example.com"), ("custom-key", "custom-value"));
        Assert.Equal(164, decoder.DynamicTableSize);
    }

    [Fact]
    public void Responses_with_Huffman_evict_from_a_256_byte_table_C6()
    {
        var decoder = new HpackDecoder(maxTableSize: 256);
        AssertHeaders(decoder.Decode(Hex("4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3")),
            (":status", "302"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), ("location", "https://www.example.com"));
        Assert.Equal(222, decoder.DynamicTableSize);
        AssertHeaders(decoder.Decode(Hex("4883 640e ffc1 c0bf")),
            (":status", "307"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), ("location", "https://www.example.com"));
        Assert.Equal(222, decoder.DynamicTableSize);
        AssertHeaders(decoder.Decode(Hex("88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07")),
            (":status", "200"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:22 GMT"), ("location", "https://www.example.com"),
            ("content-encoding", "gzip"), ("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"));
        Assert.Equal(215, decoder.DynamicTableSize);
        Assert.Equal(3, decoder.DynamicTableCount);
    }

    [Fact]
    public void Huffman_codes_match_RFC_7541_Appendix_B_and_round_trip_every_byte()
    {
        Assert.Equal((0x0u, 5), HuffmanCode.CodeOf('0'));
        Assert.Equal((0x14u, 6), HuffmanCode.CodeOf(' '));
        Assert.Equal((0x1ff8u, 13), HuffmanCode.CodeOf(0));
        Assert.Equal((0x7fffd8u, 23), HuffmanCode.CodeOf(1));
        Assert.Equal((0x3ffffeeu, 26), HuffmanCode.CodeOf(255));
        Assert.Equal((0x3fffffffu, 30), HuffmanCode.CodeOf(HuffmanCode.EndOfString));
        var all = Enumerable.Range(0, 256).Select(i => (byte)i).Concat(Encoding.ASCII.GetBytes("application/grpc grpc-status")).ToArray();
        var decoded = new List<byte>();
        Assert.True(HuffmanCode.TryDecode(HuffmanCode.Encode(all), decoded));
        Assert.Equal(all, decoded.ToArray());
    }

    [Theory]
    [InlineData("ff ff ff ff")]      // 32 one bits: EOS (30 ones) inside the string
    [InlineData("00")]               // '0' then 3 zero bits of padding: padding must be ones
    [InlineData("1f ff")]            // '0' then 11 bits of ones: padding longer than 7 bits
    public void Invalid_Huffman_strings_are_rejected(string hex)
    {
        Assert.False(HuffmanCode.TryDecode(Hex(hex), []));
    }

    [Theory]
    [InlineData("be", "index 62 with an empty dynamic table")]
    [InlineData("80", "index 0")]
    [InlineData("41 05 61 62", "a string longer than the block")]
    [InlineData("ff ff ff ff ff 0f", "an integer beyond 31 bits")]
    [InlineData("3f e2 1f", "a table size update above the limit")]
    [InlineData("82 20", "a table size update after a header")]
    [InlineData("41 81 00", "an invalid Huffman string")]
    public void Malformed_blocks_throw_HpackException(string hex, string because)
    {
        var error = Assert.Throws<HpackException>(() => new HpackDecoder().Decode(Hex(hex)));
        Assert.False(string.IsNullOrEmpty(error.Message), because);
    }

    [Fact]
    public void Table_size_update_to_zero_empties_the_table()
    {
        var decoder = new HpackDecoder();
        decoder.Decode(Hex("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d"));
        Assert.Equal(1, decoder.DynamicTableCount);
        decoder.Decode(Hex("20"));
        Assert.Equal(0, decoder.DynamicTableCount);
        Assert.Throws<HpackException>(() => decoder.Decode(Hex("be")));
    }

    [Fact]
    public void Encoded_request_headers_decode_to_what_was_sent()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "http://127.0.0.1:5000/pkg.Svc/Method") { Content = new ByteArrayContent([]) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        request.Headers.TryAddWithoutValidation("x-long", new string('v', 300));
        request.Headers.TryAddWithoutValidation("connection", "close");
        var decoded = new HpackDecoder().Decode(Http2Handler.EncodeRequestHeaders(request));
        Assert.Equal(
            [(":method", "POST"), (":scheme", "http"), (":path", "/pkg.Svc/Method"), (":authority", "127.0.0.1:5000"),
             ("te", "trailers"), ("x-long", new string('v', 300)), ("content-type", "application/grpc")],
            decoded.ToArray());
    }
}

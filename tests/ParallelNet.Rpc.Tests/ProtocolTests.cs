using ParallelNet.Rpc.Internal;

namespace ParallelNet.Rpc.Tests;

public sealed class ProtocolTests
{
    [Theory]
    [InlineData("4980m", 4980 * TimeSpan.TicksPerMillisecond)]
    [InlineData("1H", TimeSpan.TicksPerHour)]
    [InlineData("2M", 2 * TimeSpan.TicksPerMinute)]
    [InlineData("3S", 3 * TimeSpan.TicksPerSecond)]
    [InlineData("7u", 70)]
    [InlineData("150n", 2)]
    [InlineData("99999999S", 99_999_999 * TimeSpan.TicksPerSecond)]
    public void Timeout_header_parses_every_unit(string header, long ticks) =>
        Assert.Equal(TimeSpan.FromTicks(ticks), GrpcProtocol.ParseTimeout(header));

    [Theory]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("123456789S")]
    [InlineData("12x")]
    [InlineData("-5S")]
    [InlineData("1.5S")]
    public void Malformed_timeout_headers_are_ignored(string header) => Assert.Null(GrpcProtocol.ParseTimeout(header));

    [Theory]
    [InlineData(1L)]
    [InlineData(12_345L)]
    [InlineData(TimeSpan.TicksPerSecond * 5)]
    [InlineData(TimeSpan.TicksPerDay * 3)]
    [InlineData(TimeSpan.TicksPerDay * 365 * 100)]
    public void Formatted_timeouts_have_at_most_8_digits_and_never_shrink(long ticks)
    {
        var text = GrpcProtocol.FormatTimeout(TimeSpan.FromTicks(ticks));
        Assert.InRange(text.Length, 2, 9);
        Assert.True(GrpcProtocol.ParseTimeout(text) >= TimeSpan.FromTicks(ticks), text);
    }

    [Theory]
    [InlineData("plain ascii", "plain ascii")]
    [InlineData("100%", "100%25")]
    [InlineData("é", "%C3%A9")]
    [InlineData("line\nbreak", "line%0Abreak")]
    public void Grpc_message_is_percent_encoded_as_the_spec_says(string message, string wire)
    {
        Assert.Equal(wire, GrpcProtocol.PercentEncode(message));
        Assert.Equal(message, GrpcProtocol.PercentDecode(wire));
    }

    [Fact]
    public void Percent_decoding_keeps_malformed_escapes_and_round_trips_any_text()
    {
        Assert.Equal("50%zz%", GrpcProtocol.PercentDecode("50%zz%"));
        var random = new Random(3);
        for (var i = 0; i < 200; i++)
        {
            var text = new string(Enumerable.Range(0, random.Next(0, 40)).Select(_ => (char)random.Next(1, 0xD7FF)).ToArray());
            Assert.Equal(text, GrpcProtocol.PercentDecode(GrpcProtocol.PercentEncode(text)));
        }
    }

    [Fact]
    public void Binary_metadata_accepts_padded_and_unpadded_base64()
    {
        byte[] bytes = [1, 2, 3, 4];
        Assert.Equal(bytes, GrpcProtocol.DecodeBase64("AQIDBA=="));
        Assert.Equal(bytes, GrpcProtocol.DecodeBase64("AQIDBA"));
        var metadata = new Metadata();
        GrpcProtocol.AddToMetadata(metadata, "X-Key-Bin", "AQIDBA,AQ==");
        Assert.Equal([bytes, new byte[] { 1 }], metadata.GetAll("x-key-bin").Select(e => e.ValueBytes));
    }

    [Fact]
    public void Metadata_rejects_bad_keys_and_values_with_a_clear_message()
    {
        Assert.Contains("may only use", Assert.Throws<ArgumentException>(() => new Metadata().Add("bad key", "v")).Message);
        Assert.Contains("printable ASCII", Assert.Throws<ArgumentException>(() => new Metadata().Add("k", "é")).Message);
        Assert.Contains("-bin", Assert.Throws<ArgumentException>(() => new Metadata().Add("k", new byte[1])).Message);
        Assert.Contains("-bin", Assert.Throws<ArgumentException>(() => new Metadata().Add("k-bin", "text")).Message);
    }

    [Theory]
    [InlineData(400, StatusCode.Internal)]
    [InlineData(401, StatusCode.Unauthenticated)]
    [InlineData(403, StatusCode.PermissionDenied)]
    [InlineData(404, StatusCode.Unimplemented)]
    [InlineData(429, StatusCode.Unavailable)]
    [InlineData(502, StatusCode.Unavailable)]
    [InlineData(503, StatusCode.Unavailable)]
    [InlineData(504, StatusCode.Unavailable)]
    [InlineData(500, StatusCode.Unknown)]
    public void Http_status_maps_to_grpc_status(int http, StatusCode expected) =>
        Assert.Equal(expected, GrpcProtocol.StatusFromHttpStatus((System.Net.HttpStatusCode)http));

    [Theory]
    [InlineData(0x7, StatusCode.Unavailable)]
    [InlineData(0x8, StatusCode.Cancelled)]
    [InlineData(0xB, StatusCode.ResourceExhausted)]
    [InlineData(0x2, StatusCode.Internal)]
    public void Stream_reset_code_maps_to_grpc_status(long code, StatusCode expected) =>
        Assert.Equal(expected, GrpcProtocol.StatusFromHttp2ErrorCode(code));

    [Theory]
    [InlineData("application/grpc", true)]
    [InlineData("application/grpc+proto", true)]
    [InlineData("application/grpc; charset=utf-8", true)]
    [InlineData("application/grpc+json", false)]
    [InlineData("application/grpcx", false)]
    [InlineData("text/plain", false)]
    [InlineData(null, false)]
    public void Content_type_check(string? contentType, bool expected) => Assert.Equal(expected, GrpcProtocol.IsGrpcContentType(contentType));
}

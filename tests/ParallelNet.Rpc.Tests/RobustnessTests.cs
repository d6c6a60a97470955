using System.Net;
using System.Net.Sockets;
using System.Text;
using ParallelNet.Rpc.Tests.Protos;

namespace ParallelNet.Rpc.Tests;

/// <summary>Requests no gRPC client would send: each gets a clear answer and the server keeps serving.</summary>
public abstract class RobustnessTests(ServerFixture fixture)
{
    private async Task AssertStillServing()
    {
        var response = await fixture.Client.AsyncUnaryCall(TestService.Echo, new EchoRequest { Text = "alive" }, CallOptions.WithTimeout(Waits.Long));
        Assert.Equal("alive", response.Text);
    }

    private static HttpClient RawClient() => new(new SocketsHttpHandler()) { Timeout = Waits.Long };

    [Fact]
    public async Task Malformed_protobuf_is_INTERNAL()
    {
        using var http = RawClient();
        using var request = RawGrpc.Request(fixture.Server, TestService.Echo.FullName, RawGrpc.Frame([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]));
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("13", RawGrpc.Status(response));
        await AssertStillServing();
    }

    [Fact]
    public async Task Truncated_message_and_bad_flag_byte_are_INTERNAL()
    {
        using var http = RawClient();
        var framed = RawGrpc.Frame(new EchoRequest { Text = "abcdef" });
        using (var request = RawGrpc.Request(fixture.Server, TestService.Echo.FullName, framed[..^2]))
        using (var response = await http.SendAsync(request))
            Assert.Equal("13", RawGrpc.Status(response));
        framed[0] = 7;
        using (var request = RawGrpc.Request(fixture.Server, TestService.Echo.FullName, framed))
        using (var response = await http.SendAsync(request))
            Assert.Equal("13", RawGrpc.Status(response));
        await AssertStillServing();
    }

    [Fact]
    public async Task Wrong_content_type_is_415()
    {
        using var http = RawClient();
        using var request = RawGrpc.Request(fixture.Server, TestService.Echo.FullName, RawGrpc.Frame(new EchoRequest()), "application/json");
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        await AssertStillServing();
    }

    [Fact]
    public async Task Unsupported_compression_is_UNIMPLEMENTED()
    {
        using var http = RawClient();
        using var request = RawGrpc.Request(fixture.Server, TestService.Echo.FullName, RawGrpc.Frame(new EchoRequest()));
        request.Headers.TryAddWithoutValidation("grpc-encoding", "gzip");
        using var response = await http.SendAsync(request);
        Assert.Equal("12", RawGrpc.Status(response));
        Assert.Equal("identity", response.Headers.GetValues("grpc-accept-encoding").Single());
    }

    [Fact]
    public async Task Oversize_length_prefix_is_refused_before_the_body_arrives()
    {
        // The prefix claims 1 GiB but only 10 bytes follow: the server must answer from the prefix alone.
        var body = new byte[15];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(1), 1u << 30);
        using var http = RawClient();
        using var request = RawGrpc.Request(fixture.Server, TestService.Echo.FullName, body);
        using var response = await http.SendAsync(request);
        Assert.Equal("8", RawGrpc.Status(response));
    }

    [Fact]
    public async Task Garbage_bytes_and_HTTP1_requests_on_the_port_do_not_stop_the_server()
    {
        foreach (var junk in new[] { "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "\u0000\u0001garbage\u00ff\r\n\r\n", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\u0000\u0000" })
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(IPAddress.Loopback, fixture.Server.Port);
            await socket.SendAsync(Encoding.Latin1.GetBytes(junk + new string('x', 5000)));
            var buffer = new byte[4096];
            using var timeout = new CancellationTokenSource(Waits.Long);
            try
            {
                // The server answers with a GOAWAY or closes; either way the read ends.
                while (await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token) > 0) { }
            }
            catch (SocketException) { }
        }
        await AssertStillServing();
    }

    [Fact]
    public async Task Abrupt_disconnect_in_the_middle_of_a_request_does_not_stop_the_server()
    {
        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await socket.ConnectAsync(IPAddress.Loopback, fixture.Server.Port);
            // HTTP/2 preface and an empty SETTINGS frame, then the connection just drops.
            await socket.SendAsync(Encoding.Latin1.GetBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").Concat(new byte[] { 0, 0, 0, 4, 0, 0, 0, 0, 0 }).ToArray());
            socket.Close(0);
        }
        await AssertStillServing();
    }
}

public sealed class RobustnessTestsOnKestrel(ServerFixture fixture) : RobustnessTests(fixture), IClassFixture<ServerFixture>;

public sealed class RobustnessTestsOnOwnHttp2(OwnHttp2ServerFixture fixture) : RobustnessTests(fixture), IClassFixture<OwnHttp2ServerFixture>;

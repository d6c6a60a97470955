using System.Net.Sockets;
using ParallelNet.Rpc.Internal.Http2;
using ParallelNet.Rpc.Tests.Protos;

namespace ParallelNet.Rpc.Tests;

/// <summary>What only our own HTTP/2 server transport does: its listener, bad bytes on its port, its shutdown.</summary>
public sealed class OwnHttp2ServerTests
{
    private static async Task<GrpcServer> StartAsync(TestService service)
    {
        var options = new GrpcServerOptions { Transport = GrpcServerTransport.Http2, ShutdownGracePeriod = Waits.Long };
        options.Services.Add(service.Definition());
        return await GrpcServer.StartAsync(options);
    }

    /// <summary>Sends the bytes and reads until the server closes the connection; returns what it sent back.</summary>
    private static async Task<byte[]> SendAndReadToEndAsync(GrpcServer server, byte[] bytes)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", server.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(bytes);
        using var received = new MemoryStream();
        await stream.CopyToAsync(received).WaitAsync(Waits.Long);
        return received.ToArray();
    }

    [Fact]
    public async Task Bytes_that_are_not_HTTP2_get_GOAWAY_and_a_closed_connection_and_the_server_keeps_serving()
    {
        await using var server = await StartAsync(new TestService());

        var answer = await SendAndReadToEndAsync(server, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"u8.ToArray());

        Assert.True(answer.Length >= 9 + 8, $"expected a GOAWAY frame, got {answer.Length} bytes");
        Assert.Equal(0x7, answer[3]); // GOAWAY
        Assert.Equal(0x1, answer[9 + 7]); // PROTOCOL_ERROR
        using var client = new GrpcClient(server.LoopbackAddress);
        Assert.Equal("after", (await client.AsyncUnaryCall(TestService.Echo, new EchoRequest { Text = "after" }, CallOptions.WithTimeout(Waits.Long))).Text);
    }

    [Fact]
    public async Task DATA_on_a_stream_the_client_never_opened_ends_that_connection_only()
    {
        await using var server = await StartAsync(new TestService());
        var preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();
        byte[] settings = [0, 0, 0, 0x4, 0, 0, 0, 0, 0];
        byte[] data = [0, 0, 1, 0x0, 0, 0, 0, 0, 7, 42];

        var answer = await SendAndReadToEndAsync(server, [.. preface, .. settings, .. data]);

        // Our SETTINGS and WINDOW_UPDATE come first; the last frame is GOAWAY with PROTOCOL_ERROR.
        Assert.Contains(FrameTypes(answer), t => t == 0x7);
        using var client = new GrpcClient(server.LoopbackAddress);
        Assert.Equal("after", (await client.AsyncUnaryCall(TestService.Echo, new EchoRequest { Text = "after" }, CallOptions.WithTimeout(Waits.Long))).Text);
    }

    private static List<byte> FrameTypes(byte[] frames)
    {
        var types = new List<byte>();
        for (var position = 0; position + 9 <= frames.Length; position += 9 + (frames[position] << 16 | frames[position + 1] << 8 | frames[position + 2]))
            types.Add(frames[position + 3]);
        return types;
    }

    [Fact]
    public async Task A_client_that_goes_silent_under_an_open_call_and_ignores_pings_is_dropped()
    {
        var options = new GrpcServerOptions
        {
            Transport = GrpcServerTransport.Http2, KeepAlivePingDelay = TimeSpan.FromSeconds(1), KeepAlivePingTimeout = TimeSpan.FromSeconds(1),
        };
        options.Services.Add(new TestService().Definition());
        await using var server = await GrpcServer.StartAsync(options);
        var block = new List<byte>();
        HpackEncoder.WriteIndexed(block, 3); // :method POST
        HpackEncoder.WriteIndexed(block, 6); // :scheme http
        HpackEncoder.WriteLiteral(block, 4, TestService.ClientStream.FullName); // :path
        HpackEncoder.WriteLiteral(block, 31, "application/grpc");
        byte[] headers = [0, 0, (byte)block.Count, 0x1, 0x4, 0, 0, 0, 1, .. block];

        // The call stays open (no END_STREAM) and the client never answers the server's PINGs.
        var answer = await SendAndReadToEndAsync(server, [.. "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray(), 0, 0, 0, 0x4, 0, 0, 0, 0, 0, .. headers]);

        Assert.Contains(FrameTypes(answer), t => t == 0x6); // PING
    }

    [Fact]
    public async Task A_deadline_that_passes_in_the_middle_of_a_large_request_DATA_frame_ends_the_read_and_the_call()
    {
        var readEnded = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var upload = Method.Create<EchoRequest, EchoResponse>(MethodType.ClientStreaming, "parallelnet.test.v1.StallService", "Upload");
        var options = new GrpcServerOptions { Transport = GrpcServerTransport.Http2, MaxReceiveMessageSize = ServerFixture.LargeLimit };
        options.Services.Add(ServerServiceDefinition.CreateBuilder()
            .AddMethod(upload, async (IAsyncStreamReader<EchoRequest> requests, ServerCallContext context) =>
            {
                try
                {
                    await requests.MoveNext(context.CancellationToken);
                    readEnded.TrySetResult(null);
                }
                catch (Exception ex)
                {
                    readEnded.TrySetResult(ex);
                    throw;
                }
                return new EchoResponse();
            })
            .Build());
        options.Services.Add(new TestService().Definition());
        await using var server = await GrpcServer.StartAsync(options);
        var block = new List<byte>();
        HpackEncoder.WriteIndexed(block, 3); // :method POST
        HpackEncoder.WriteIndexed(block, 6); // :scheme http
        HpackEncoder.WriteLiteral(block, 4, upload.FullName); // :path
        HpackEncoder.WriteLiteral(block, 31, "application/grpc");
        HpackEncoder.WriteLiteral(block, "grpc-timeout", "1S");
        const int messageLength = 1_000_000, firstPayload = 100_000, secondFrame = 300_000, secondSent = 50_000;
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", server.Port);
        var stream = tcp.GetStream();
        // A message of 1 MB: its first 100 kB in one frame, then a frame that announces 300 kB but brings 50 kB and stalls.
        await stream.WriteAsync((byte[])[.. "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray(), 0, 0, 0, 0x4, 0, 0, 0, 0, 0,
            0, 0, (byte)block.Count, 0x1, 0x4, 0, 0, 0, 1, .. block,
            .. DataFrameHeader(5 + firstPayload), 0, .. BigEndian(messageLength), .. new byte[firstPayload]]);
        // Gives the call time to wait for the rest of the message, so the stalled frame is read straight into its buffer.
        await Task.Delay(200);
        await stream.WriteAsync((byte[])[.. DataFrameHeader(secondFrame), .. new byte[secondSent]]);

        var status = await ReadStatusHeadersAsync(stream).WaitAsync(Waits.Long);
        // The handler's read ends too, while the connection is still stuck in the middle of the frame.
        var readError = await readEnded.Task.WaitAsync(Waits.Long);

        Assert.Contains("grpc-status\u00014", status); // DEADLINE_EXCEEDED
        Assert.IsAssignableFrom<OperationCanceledException>(readError);
        using var client = new GrpcClient(server.LoopbackAddress);
        Assert.Equal("after", (await client.AsyncUnaryCall(TestService.Echo, new EchoRequest { Text = "after" }, CallOptions.WithTimeout(Waits.Long))).Text);
    }

    private static byte[] DataFrameHeader(int length) => [(byte)(length >> 16), (byte)(length >> 8), (byte)length, 0x0, 0, 0, 0, 0, 1];

    private static byte[] BigEndian(int value) => [(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value];

    /// <summary>Reads frames until one ends stream 1 with headers; returns that header block as Latin-1 text (our server sends literals, no Huffman).</summary>
    private static async Task<string> ReadStatusHeadersAsync(NetworkStream stream)
    {
        var header = new byte[9];
        while (true)
        {
            await stream.ReadExactlyAsync(header);
            var payload = new byte[header[0] << 16 | header[1] << 8 | header[2]];
            await stream.ReadExactlyAsync(payload);
            var streamId = header[5] << 24 | header[6] << 16 | header[7] << 8 | header[8];
            if (header[3] == 0x1 && streamId == 1 && (header[4] & 0x1) != 0) return System.Text.Encoding.Latin1.GetString(payload);
        }
    }

    [Fact]
    public async Task Stopping_lets_a_running_call_finish_and_refuses_new_connections()
    {
        var service = new TestService();
        var server = await StartAsync(service);
        using var client = new GrpcClient(server.LoopbackAddress);
        using var call = client.AsyncClientStreamingCall(TestService.ClientStream, CallOptions.WithTimeout(Waits.Long));
        await call.RequestStream.WriteAsync(new EchoRequest { Text = "before" });

        var stopping = server.StopAsync();
        await call.RequestStream.WriteAsync(new EchoRequest { Text = "during" });
        await call.RequestStream.CompleteAsync();
        var response = await call;
        await stopping.WaitAsync(Waits.Long);

        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        Assert.NotNull(response);
        await Assert.ThrowsAnyAsync<SocketException>(async () =>
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync("127.0.0.1", server.Port);
        });
        await server.DisposeAsync();
    }

    [Fact]
    public async Task A_TLS_client_that_does_not_offer_h2_is_refused_with_a_clear_answer_and_the_server_keeps_serving()
    {
        var path = TestCertificates.CreateLocalhostPfx("pw");
        try
        {
            var options = new GrpcServerOptions { Transport = GrpcServerTransport.Http2, CertificatePath = path, CertificatePassword = "pw" };
            options.Services.Add(new TestService().Definition());
            await using var server = await GrpcServer.StartAsync(options);
            // Offering only HTTP/1.1 ends the handshake with TLS's own alert for it.
            var refused = await Assert.ThrowsAsync<System.Security.Authentication.AuthenticationException>(() =>
                ConnectTlsAsync(server, [System.Net.Security.SslApplicationProtocol.Http11]));
            Assert.Contains("no application protocol", refused.ToString());
            // Offering no protocol at all gets through the handshake, then an HTTP/1.1 answer that says why the connection closes.
            var answer = await ConnectTlsAsync(server, null);
            Assert.StartsWith("HTTP/1.1 505", answer);
            Assert.Contains("HTTP/2 only: offer ALPN h2", answer);
            using var client = new GrpcClient(server.LoopbackAddress, new GrpcClientOptions { ServerCertificateValidator = (_, _, _) => true });
            Assert.Equal("after", (await client.AsyncUnaryCall(TestService.Echo, new EchoRequest { Text = "after" }, CallOptions.WithTimeout(Waits.Long))).Text);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Connects with TLS offering <paramref name="protocols"/> (null: no ALPN) and returns all the server sends until it closes.</summary>
    private static async Task<string> ConnectTlsAsync(GrpcServer server, List<System.Net.Security.SslApplicationProtocol>? protocols)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", server.Port);
        await using var ssl = new System.Net.Security.SslStream(tcp.GetStream());
        await ssl.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions
        {
            TargetHost = "localhost", ApplicationProtocols = protocols, RemoteCertificateValidationCallback = (_, _, _, _) => true,
        });
        using var received = new MemoryStream();
        await ssl.CopyToAsync(received).WaitAsync(Waits.Long);
        return System.Text.Encoding.ASCII.GetString(received.ToArray());
    }
}

using System.Buffers.Binary;
using System.Text;
using Google.Protobuf;
using ParallelNet.Rpc.Internal.Http2;
using ParallelNet.Rpc.Tests.Protos;
using Peer = ParallelNet.Rpc.Tests.ScriptedHttp2Server.Peer;

namespace ParallelNet.Rpc.Tests;

/// <summary>
/// The native HTTP/2 client against a scripted server: header compression the way grpcio uses it, flow control both
/// ways, GOAWAY, resets, and malformed frames, which must fail the call with a clear error and never hang.
/// </summary>
public sealed class Http2ClientTests
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(30);

    private static byte[] Message(string text, int payloadBytes = 0) =>
        RawGrpc.Frame(new EchoResponse { Text = text, Payload = ByteString.CopyFrom(new byte[payloadBytes]) });

    /// <summary>A unary call the scripted server has accepted, and the id of its stream.</summary>
    private sealed record UnaryExchange(AsyncUnaryCall<EchoResponse> Call, Peer Peer, int StreamId) : IDisposable
    {
        public void Dispose()
        {
            Call.Dispose();
            Peer.Dispose();
        }
    }

    private static async Task<UnaryExchange> StartUnaryAsync(ScriptedHttp2Server server, GrpcClient client, string text, CancellationToken cancellationToken = default)
    {
        var call = client.AsyncUnaryCall(TestService.Echo, new EchoRequest { Text = text }, new CallOptions(CancellationToken: cancellationToken));
        var peer = await server.AcceptAsync();
        return new UnaryExchange(call, peer, (await peer.ReadFrameAsync(FrameType.Headers)).Header.StreamId);
    }

    [Fact]
    public async Task Huffman_strings_and_dynamic_table_references_from_the_server_are_decoded()
    {
        using var server = new ScriptedHttp2Server();
        using var client = server.Client();
        using var exchange = await StartUnaryAsync(server, client, "hi");
        var (call, peer, id) = exchange;

        var headers = new List<byte> { 0x88 }; // :status 200
        headers.Add(0x40 | 31); // content-type, literal with incremental indexing (dynamic entry 63 after the next one)
        AddHuffmanString(headers, "application/grpc");
        headers.Add(0x40); // new name x-meta, incremental indexing: dynamic entry 62
        AddHuffmanString(headers, "x-meta");
        AddHuffmanString(headers, "hello");
        await peer.WriteFrameAsync(FrameType.Headers, FrameFlags.EndHeaders, id, [.. headers]);
        await peer.WriteFrameAsync(FrameType.Data, 0, id, Message("echo"));
        var trailers = new List<byte> { 0xbe }; // indexed: dynamic entry 62, x-meta: hello
        HpackEncoder.WriteLiteral(trailers, "grpc-status", "0");
        await peer.WriteFrameAsync(FrameType.Headers, FrameFlags.EndHeaders | FrameFlags.EndStream, id, [.. trailers]);

        var response = await call.ResponseAsync.WaitAsync(HangGuard);
        Assert.Equal("echo", response.Text);
        Assert.Equal("hello", (await call.ResponseHeadersAsync).GetValue("x-meta"));
        Assert.Equal("hello", call.GetTrailers().GetValue("x-meta"));
    }

    private static void AddHuffmanString(List<byte> block, string value)
    {
        var encoded = HuffmanCode.Encode(Encoding.ASCII.GetBytes(value));
        HpackEncoder.WriteInteger(block, 0x80, 7, encoded.Length);
        block.AddRange(encoded);
    }

    [Fact]
    public async Task Trailers_only_response_and_continuation_frames_carry_the_status()
    {
        using var server = new ScriptedHttp2Server();
        using var client = server.Client();
        using var exchange = await StartUnaryAsync(server, client, "hi");
        var (call, peer, id) = exchange;
        var block = Peer.ResponseHeaders(("grpc-status", "5"), ("grpc-message", "no%20such%20thing"), ("x-big", new string('b', 40_000)));
        await peer.WriteFrameAsync(FrameType.Headers, FrameFlags.EndStream, id, block[..20]);
        await peer.WriteFrameAsync(FrameType.Continuation, 0, id, block[20..30_000]);
        await peer.WriteFrameAsync(FrameType.Continuation, FrameFlags.EndHeaders, id, block[30_000..]);

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(HangGuard));
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Equal("no such thing", error.Status.Detail);
    }

    private static async Task RespondAsync(Peer peer, int streamId, string text)
    {
        await peer.WriteFrameAsync(FrameType.Headers, FrameFlags.EndHeaders, streamId, Peer.ResponseHeaders());
        await peer.WriteFrameAsync(FrameType.Data, 0, streamId, Message(text));
        await peer.WriteFrameAsync(FrameType.Headers, FrameFlags.EndHeaders | FrameFlags.EndStream, streamId, Peer.Trailers(0));
    }

    [Fact]
    public async Task Request_data_stays_within_the_server_windows_and_resumes_when_they_grow()
    {
        using var server = new ScriptedHttp2Server();
        using var client = server.Client();
        // A first call makes sure the client has applied the server's SETTINGS (before them it may use the default window).
        using var warmUp = client.AsyncUnaryCall(TestService.Echo, new EchoRequest { Text = "warm" });
        using var peer = await server.AcceptAsync((SettingId.InitialWindowSize, 1000));
        await RespondAsync(peer, (await peer.ReadFrameAsync(FrameType.Headers)).Header.StreamId, "warm");
        Assert.Equal("warm", (await warmUp.ResponseAsync.WaitAsync(HangGuard)).Text);

        var request = new EchoRequest { Payload = ByteString.CopyFrom(new byte[50_000]) };
        var expected = request.CalculateSize() + 5;
        using var call = client.AsyncUnaryCall(TestService.Echo, request);
        var id = (await peer.ReadFrameAsync(FrameType.Headers)).Header.StreamId;

        var received = 0;
        while (received < 1000) received += (await peer.ReadFrameAsync(FrameType.Data)).Header.Length;
        Assert.Equal(1000, received);
        // A larger initial window applies to open streams too (RFC 9113 6.9.2)...
        await peer.WriteFrameAsync(FrameType.Settings, 0, 0, [0, (byte)SettingId.InitialWindowSize, .. Peer.UInt32(21_000)]);
        while (received < 21_000) received += (await peer.ReadFrameAsync(FrameType.Data)).Header.Length;
        Assert.Equal(21_000, received);
        // ...and a stream WINDOW_UPDATE lets the rest go, within what is left of the connection window.
        await peer.WriteFrameAsync(FrameType.WindowUpdate, 0, id, Peer.UInt32(1_000_000));
        while (true)
        {
            var frame = await peer.ReadFrameAsync(FrameType.Data);
            received += frame.Header.Length;
            if (frame.Header.Has(FrameFlags.EndStream)) break;
        }
        Assert.Equal(expected, received);

        await RespondAsync(peer, id, "done");
        Assert.Equal("done", (await call.ResponseAsync.WaitAsync(HangGuard)).Text);
    }

    [Fact]
    public async Task Client_advertises_large_frames_and_windows_and_grants_window_as_it_reads()
    {
        using var server = new ScriptedHttp2Server();
        using var client = server.Client(new GrpcClientOptions { MaxReceiveMessageSize = 64 * 1024 * 1024 });
        using var call = client.AsyncUnaryCall(TestService.Echo, new EchoRequest { Text = "hi" });
        using var peer = await server.AcceptAsync((SettingId.MaxFrameSize, 1024 * 1024));
        var settings = ReadSettings(peer.ClientSettings);
        Assert.Equal(1024u * 1024, settings[SettingId.MaxFrameSize]);
        Assert.Equal(16u * 1024 * 1024, settings[SettingId.InitialWindowSize]);
        Assert.Equal(0u, settings[SettingId.EnablePush]);
        var id = (await peer.ReadFrameAsync(FrameType.Headers)).Header.StreamId;

        var message = Message("big", 6 * 1024 * 1024);
        await peer.WriteFrameAsync(FrameType.Headers, FrameFlags.EndHeaders, id, Peer.ResponseHeaders());
        for (var offset = 0; offset < message.Length; offset += 1024 * 1024)
            await peer.WriteFrameAsync(FrameType.Data, 0, id, message[offset..Math.Min(message.Length, offset + 1024 * 1024)]);
        // The reader consumed more than a quarter of the 16 MiB stream window: the client grants it back.
        while (true)
        {
            var update = await peer.ReadFrameAsync(FrameType.WindowUpdate);
            if (update.Header.StreamId == id)
            {
                Assert.True(BinaryPrimitives.ReadUInt32BigEndian(update.Payload) >= 4 * 1024 * 1024);
                break;
            }
        }
        await peer.WriteFrameAsync(FrameType.Headers, FrameFlags.EndHeaders | FrameFlags.EndStream, id, Peer.Trailers(0));
        var response = await call.ResponseAsync.WaitAsync(HangGuard);
        Assert.Equal(6 * 1024 * 1024, response.Payload.Length);
    }

    private static Dictionary<ushort, uint> ReadSettings(byte[] payload)
    {
        var settings = new Dictionary<ushort, uint>();
        for (var i = 0; i + 6 <= payload.Length; i += 6)
            settings[BinaryPrimitives.ReadUInt16BigEndian(payload.AsSpan(i))] = BinaryPrimitives.ReadUInt32BigEndian(payload.AsSpan(i + 2));
        return settings;
    }

    public static TheoryData<string, byte[], string> MalformedFrames => new()
    {
        { "short WINDOW_UPDATE", Frame(FrameType.WindowUpdate, 0, 0, [0, 0, 1]), "WINDOW_UPDATE frame of 3 bytes" },
        { "SETTINGS of 5 bytes", Frame(FrameType.Settings, 0, 0, [0, 4, 0, 0, 1]), "SETTINGS frame of 5 bytes" },
        { "oversize frame", Frame(FrameType.Ping, 0, 0, [], declaredLength: 2 * 1024 * 1024), "at most 1048576" },
        { "DATA on stream 0", Frame(FrameType.Data, 0, 0, [1, 2, 3]), "DATA frame on stream 0" },
        { "PUSH_PROMISE", Frame(FrameType.PushPromise, FrameFlags.EndHeaders, 1, [0, 0, 0, 2, 0x82]), "PUSH_PROMISE" },
        { "bad HPACK index", Frame(FrameType.Headers, FrameFlags.EndHeaders, 1, [0xff, 0x10]), "cannot be decoded" },
        { "window overflow", Frame(FrameType.WindowUpdate, 0, 0, [0x7f, 0xff, 0xff, 0xff]), "overflows the connection window" },
        { "stray CONTINUATION", Frame(FrameType.Continuation, FrameFlags.EndHeaders, 1, [0x88]), "CONTINUATION" },
        { "bad max frame size", Frame(FrameType.Settings, 0, 0, [0, 5, 0, 0, 0, 1]), "SETTINGS_MAX_FRAME_SIZE 1" },
    };

    private static byte[] Frame(FrameType type, byte flags, int streamId, byte[] payload, int? declaredLength = null)
    {
        var frame = new byte[FrameHeader.Size + payload.Length];
        new FrameHeader(declaredLength ?? payload.Length, type, flags, streamId).WriteTo(frame);
        payload.CopyTo(frame, FrameHeader.Size);
        return frame;
    }

    [Theory]
    [MemberData(nameof(MalformedFrames))]
    public async Task A_malformed_frame_fails_the_call_with_a_clear_error_and_a_GOAWAY(string name, byte[] frame, string expected)
    {
        using var server = new ScriptedHttp2Server();
        using var client = server.Client();
        using var exchange = await StartUnaryAsync(server, client, name);
        var (call, peer, _) = exchange;
        await peer.Stream.WriteAsync(frame);

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(HangGuard));
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains(expected, error.Status.Detail, StringComparison.Ordinal);
        var goAway = await peer.ReadFrameAsync(FrameType.GoAway);
        Assert.NotEqual(0u, BinaryPrimitives.ReadUInt32BigEndian(goAway.Payload.AsSpan(4)));
    }

    [Fact]
    public async Task GOAWAY_fails_unprocessed_calls_as_unavailable_and_the_next_call_reconnects()
    {
        using var server = new ScriptedHttp2Server();
        using var client = server.Client();
        using (var refused = client.AsyncUnaryCall(TestService.Echo, new EchoRequest { Text = "first" }))
        {
            using var peer = await server.AcceptAsync();
            await peer.ReadFrameAsync(FrameType.Headers);
            await peer.WriteFrameAsync(FrameType.GoAway, 0, 0, [0, 0, 0, 0, 0, 0, 0, 0]);
            var error = await Assert.ThrowsAsync<RpcException>(() => refused.ResponseAsync.WaitAsync(HangGuard));
            Assert.Equal(StatusCode.Unavailable, error.StatusCode);
            Assert.Contains("GOAWAY", error.Status.Detail, StringComparison.Ordinal);
        }

        using var call = client.AsyncUnaryCall(TestService.Echo, new EchoRequest { Text = "second" });
        using var second = await server.AcceptAsync();
        var id = (await second.ReadFrameAsync(FrameType.Headers)).Header.StreamId;
        await RespondAsync(second, id, "again");
        Assert.Equal("again", (await call.ResponseAsync.WaitAsync(HangGuard)).Text);
    }

    [Fact]
    public async Task Connection_loss_mid_response_is_unavailable()
    {
        using var server = new ScriptedHttp2Server();
        using var client = server.Client();
        using var call = client.AsyncServerStreamingCall(TestService.ServerStream, new EchoRequest { Count = 3 });
        var peer = await server.AcceptAsync();
        var id = (await peer.ReadFrameAsync(FrameType.Headers)).Header.StreamId;
        await peer.WriteFrameAsync(FrameType.Headers, FrameFlags.EndHeaders, id, Peer.ResponseHeaders());
        var message = Message("one");
        await peer.WriteFrameAsync(FrameType.Data, 0, id, message);
        Assert.True(await call.ResponseStream.MoveNext(default).WaitAsync(HangGuard));
        await peer.WriteFrameAsync(FrameType.Data, 0, id, message[..4]);
        peer.Dispose();

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(default).WaitAsync(HangGuard));
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
    }

    [Fact]
    public async Task Cancelling_a_call_resets_its_stream()
    {
        using var server = new ScriptedHttp2Server();
        using var client = server.Client();
        using var cancel = new CancellationTokenSource();
        using var exchange = await StartUnaryAsync(server, client, "wait", cancel.Token);
        var (call, peer, id) = exchange;
        cancel.Cancel();

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(HangGuard));
        Assert.Equal(StatusCode.Cancelled, error.StatusCode);
        var reset = await peer.ReadFrameAsync(FrameType.RstStream);
        Assert.Equal(id, reset.Header.StreamId);
        Assert.Equal((uint)Http2ErrorCode.Cancel, BinaryPrimitives.ReadUInt32BigEndian(reset.Payload));
    }

    [Fact]
    public async Task Server_reset_before_the_response_maps_to_its_status()
    {
        using var server = new ScriptedHttp2Server();
        using var client = server.Client();
        using var exchange = await StartUnaryAsync(server, client, "x");
        var (call, peer, id) = exchange;
        await peer.WriteFrameAsync(FrameType.RstStream, 0, id, Peer.UInt32(Http2ErrorCode.RefusedStream));

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(HangGuard));
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
    }

    [Fact]
    public async Task A_silent_server_gets_a_keepalive_ping_and_not_answering_it_is_unavailable()
    {
        using var server = new ScriptedHttp2Server();
        using var client = server.Client(new GrpcClientOptions { KeepAlivePingDelay = TimeSpan.FromSeconds(1), KeepAlivePingTimeout = TimeSpan.FromSeconds(1) });
        using var exchange = await StartUnaryAsync(server, client, "silence");
        var (call, peer, _) = exchange;

        var ping = await peer.ReadFrameAsync(FrameType.Ping);
        Assert.Equal(0, ping.Header.StreamId);
        Assert.False(ping.Header.Has(FrameFlags.Ack));
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(HangGuard));
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains("keepalive ping", error.Status.Detail, StringComparison.Ordinal);
    }
}

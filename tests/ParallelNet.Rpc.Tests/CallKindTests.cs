using Google.Protobuf;
using ParallelNet.Rpc.Tests.Protos;

namespace ParallelNet.Rpc.Tests;

/// <summary>Our client against our server: every call kind, metadata, statuses and sizes.</summary>
public abstract class CallKindTests(ServerFixture fixture)
{
    private GrpcClient Client => fixture.Client;

    [Fact]
    public async Task Unary_echoes_text_payload_and_metadata_including_binary()
    {
        var binary = new byte[] { 0, 1, 2, 250, 255 };
        var headers = new Metadata().Add("x-echo", "hello").Add("x-echo-bin", binary);
        using var call = Client.AsyncUnaryCall(TestService.Echo, new EchoRequest { Text = "héllo", Payload = ByteString.CopyFrom(binary) }, new CallOptions(headers));

        var response = await call;
        var responseHeaders = await call.ResponseHeadersAsync;

        Assert.Equal("héllo", response.Text);
        Assert.Equal(binary, response.Payload.ToByteArray());
        Assert.Equal("hello", responseHeaders.GetValue("x-echo"));
        Assert.Equal(binary, responseHeaders.GetValueBytes("x-echo-bin"));
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        Assert.Equal(binary, call.GetTrailers().GetValueBytes("x-echo-bin"));
    }

    [Fact]
    public async Task Server_stream_delivers_every_message_in_order()
    {
        using var call = Client.AsyncServerStreamingCall(TestService.ServerStream, new EchoRequest { Text = "s", Count = 50, ResponseSize = 1000 });
        var indices = new List<int>();
        await foreach (var response in call.ResponseStream.ReadAllAsync())
        {
            Assert.Equal(1000, response.Payload.Length);
            indices.Add(response.Index);
        }
        Assert.Equal(Enumerable.Range(0, 50), indices);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task Empty_server_stream_ends_with_OK()
    {
        using var call = Client.AsyncServerStreamingCall(TestService.ServerStream, new EchoRequest { Count = 0 });
        Assert.False(await call.ResponseStream.MoveNext(default));
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task Client_stream_gets_one_response_for_all_requests()
    {
        using var call = Client.AsyncClientStreamingCall(TestService.ClientStream);
        for (var i = 0; i < 20; i++)
            await call.RequestStream.WriteAsync(new EchoRequest { Text = i.ToString(), Payload = ByteString.CopyFrom(new byte[i]) });
        await call.RequestStream.CompleteAsync();

        var response = await call;

        Assert.Equal(20, response.Index);
        Assert.Equal(Enumerable.Range(0, 20).Sum(), response.TotalBytes);
        Assert.Equal(string.Join(",", Enumerable.Range(0, 20)), response.Text);
    }

    [Fact]
    public async Task Duplex_answers_each_request_before_the_next_is_sent()
    {
        using var call = Client.AsyncDuplexStreamingCall(TestService.Duplex);
        for (var i = 0; i < 10; i++)
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Text = "ping" + i });
            Assert.True(await call.ResponseStream.MoveNext(default));
            Assert.Equal("ping" + i, call.ResponseStream.Current.Text);
            Assert.Equal(i, call.ResponseStream.Current.Index);
        }
        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext(default));
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Theory]
    [InlineData(StatusCode.NotFound, "job 42 n'existe pas — ✗ 100% sûr")]
    [InlineData(StatusCode.InvalidArgument, "batch_size: must be > 0")]
    [InlineData(StatusCode.PermissionDenied, "")]
    public async Task Handler_status_reaches_the_client_with_its_exact_message_and_trailers(StatusCode code, string message)
    {
        using var call = Client.AsyncUnaryCall(TestService.Fail, new EchoRequest { StatusCode = (int)code, StatusMessage = message });
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
        Assert.Equal(code, error.StatusCode);
        Assert.Equal(message, error.Status.Detail);
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, error.Trailers.GetValueBytes("x-fail-bin"));
    }

    [Fact]
    public async Task Handler_exception_is_UNKNOWN_without_internals()
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () => await Client.AsyncUnaryCall(TestService.Throw, new EchoRequest()));
        Assert.Equal(StatusCode.Unknown, error.StatusCode);
        Assert.DoesNotContain("secret", error.Status.Detail, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("hunter2", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Handler_exception_after_the_first_message_ends_the_stream_UNKNOWN_without_internals()
    {
        using var call = Client.AsyncServerStreamingCall(TestService.ServerStream,
            new EchoRequest { Text = "boom", Count = 5, StatusMessage = TestService.ThrowAfterFirstMessage }, CallOptions.WithTimeout(Waits.Long));
        Assert.True(await call.ResponseStream.MoveNext(default));
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(default));
        Assert.Equal(StatusCode.Unknown, error.StatusCode);
        Assert.DoesNotContain("secret", error.Status.Detail, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("hunter2", error.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(error.Trailers, entry => !entry.IsBinary && entry.Value.Contains("hunter2", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Oversize_message_in_the_middle_of_a_client_stream_is_RESOURCE_EXHAUSTED_and_the_server_keeps_serving()
    {
        using var call = Client.AsyncClientStreamingCall(TestService.ClientStream, CallOptions.WithTimeout(Waits.Long));
        await call.RequestStream.WriteAsync(new EchoRequest { Text = "fine" });
        try
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Payload = ByteString.CopyFrom(new byte[ServerFixture.LargeLimit + 1]) });
            await call.RequestStream.CompleteAsync();
        }
        catch (RpcException)
        {
            // The server may answer and reset the stream before the whole message is written; the status below is what counts.
        }
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Equal("still here", (await Client.AsyncUnaryCall(TestService.Echo, new EchoRequest { Text = "still here" })).Text);
    }

    [Fact]
    public async Task Unknown_method_and_unknown_service_are_UNIMPLEMENTED()
    {
        var unknownMethod = Method.Create<EchoRequest, EchoResponse>(MethodType.Unary, TestService.Name, "NoSuchMethod");
        var unknownService = Method.Create<EchoRequest, EchoResponse>(MethodType.Unary, "parallelnet.test.v1.Nope", "Echo");
        var first = await Assert.ThrowsAsync<RpcException>(async () => await Client.AsyncUnaryCall(unknownMethod, new EchoRequest()));
        var second = await Assert.ThrowsAsync<RpcException>(async () => await Client.AsyncUnaryCall(unknownService, new EchoRequest()));
        Assert.Equal(StatusCode.Unimplemented, first.StatusCode);
        Assert.Equal(StatusCode.Unimplemented, second.StatusCode);
    }

    [Fact]
    public async Task Sixteen_MiB_messages_travel_both_ways_intact()
    {
        var payload = new byte[16 * 1024 * 1024];
        new Random(7).NextBytes(payload);
        var response = await Client.AsyncUnaryCall(TestService.Echo, new EchoRequest { Payload = ByteString.CopyFrom(payload) });
        Assert.True(payload.AsSpan().SequenceEqual(response.Payload.Span));

        using var stream = Client.AsyncDuplexStreamingCall(TestService.Duplex);
        await stream.RequestStream.WriteAsync(new EchoRequest { Payload = ByteString.CopyFrom(payload) });
        Assert.True(await stream.ResponseStream.MoveNext(default));
        Assert.True(payload.AsSpan().SequenceEqual(stream.ResponseStream.Current.Payload.Span));
        await stream.RequestStream.CompleteAsync();
        Assert.False(await stream.ResponseStream.MoveNext(default));
    }

    [Fact]
    public async Task Client_stream_of_large_messages_back_to_back_keeps_message_boundaries()
    {
        using var call = Client.AsyncClientStreamingCall(TestService.ClientStream);
        var sizes = new[] { 5_000_000, 3, 0, 7_340_033, 1, 4_194_304 };
        foreach (var size in sizes) await call.RequestStream.WriteAsync(new EchoRequest { Text = size.ToString(), Payload = ByteString.CopyFrom(new byte[size]) });
        await call.RequestStream.CompleteAsync();
        var response = await call;
        Assert.Equal(sizes.Length, response.Index);
        Assert.Equal(sizes.Sum(s => (long)s), response.TotalBytes);
        Assert.Equal(string.Join(",", sizes), response.Text);
    }

    [Fact]
    public async Task Request_over_the_server_limit_is_RESOURCE_EXHAUSTED_and_the_server_keeps_serving()
    {
        var payload = ByteString.CopyFrom(new byte[ServerFixture.LargeLimit + 1]);
        var error = await Assert.ThrowsAsync<RpcException>(async () => await Client.AsyncUnaryCall(TestService.Echo, new EchoRequest { Payload = payload }));
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Equal("still here", (await Client.AsyncUnaryCall(TestService.Echo, new EchoRequest { Text = "still here" })).Text);
    }

    [Fact]
    public async Task Response_over_the_client_limit_is_RESOURCE_EXHAUSTED()
    {
        using var small = new GrpcClient(fixture.Server.LoopbackAddress, new GrpcClientOptions { MaxReceiveMessageSize = 1024 });
        var error = await Assert.ThrowsAsync<RpcException>(async () => await small.AsyncUnaryCall(TestService.Echo, new EchoRequest { ResponseSize = 4096 }));
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }

    [Fact]
    public async Task Request_over_the_client_send_limit_fails_locally_with_RESOURCE_EXHAUSTED()
    {
        using var small = new GrpcClient(fixture.Server.LoopbackAddress, new GrpcClientOptions { MaxSendMessageSize = 100 });
        var error = await Assert.ThrowsAsync<RpcException>(async () => await small.AsyncUnaryCall(TestService.Echo, new EchoRequest { Payload = ByteString.CopyFrom(new byte[200]) }));
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);

        using var stream = small.AsyncClientStreamingCall(TestService.ClientStream);
        var streamError = await Assert.ThrowsAsync<RpcException>(() => stream.RequestStream.WriteAsync(new EchoRequest { Payload = ByteString.CopyFrom(new byte[200]) }));
        Assert.Equal(StatusCode.ResourceExhausted, streamError.StatusCode);
    }

    [Fact]
    public async Task Many_concurrent_calls_on_one_client_all_succeed()
    {
        var calls = Enumerable.Range(0, 200).Select(async i =>
            (await Client.AsyncUnaryCall(TestService.Echo, new EchoRequest { Text = "c" + i })).Text);
        var texts = await Task.WhenAll(calls);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => "c" + i), texts);
    }
}

public sealed class CallKindTestsOnKestrel(ServerFixture fixture) : CallKindTests(fixture), IClassFixture<ServerFixture>;

public sealed class CallKindTestsOnOwnHttp2(OwnHttp2ServerFixture fixture) : CallKindTests(fixture), IClassFixture<OwnHttp2ServerFixture>;

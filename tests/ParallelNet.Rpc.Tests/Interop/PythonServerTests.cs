using Google.Protobuf;
using ParallelNet.Rpc.Tests.Protos;

namespace ParallelNet.Rpc.Tests.Interop;

/// <summary>Our client against a python grpcio server.</summary>
public sealed class PythonServerTests(PythonServerFixture peer) : IClassFixture<PythonServerFixture>
{
    private GrpcClient Client => peer.Client;

    [Fact]
    public async Task Unary_with_text_and_binary_metadata()
    {
        var binary = new byte[] { 0, 1, 2, 250, 255 };
        using var call = Client.AsyncUnaryCall(TestService.Echo, new EchoRequest { Text = "héllo", Payload = ByteString.CopyFrom(binary) },
            new CallOptions(new Metadata().Add("x-echo", "hello").Add("x-echo-bin", binary)));
        var response = await call;
        var headers = await call.ResponseHeadersAsync;
        Assert.Equal("héllo", response.Text);
        Assert.Equal(binary, response.Payload.ToByteArray());
        Assert.Equal("hello", headers.GetValue("x-echo"));
        Assert.Equal(binary, headers.GetValueBytes("x-echo-bin"));
        Assert.Equal(binary, call.GetTrailers().GetValueBytes("x-echo-bin"));
    }

    [Fact]
    public async Task Server_client_and_duplex_streams()
    {
        using var down = Client.AsyncServerStreamingCall(TestService.ServerStream, new EchoRequest { Count = 30, ResponseSize = 100 });
        var indices = new List<int>();
        await foreach (var r in down.ResponseStream.ReadAllAsync()) indices.Add(r.Index);
        Assert.Equal(Enumerable.Range(0, 30), indices);

        using var up = Client.AsyncClientStreamingCall(TestService.ClientStream);
        for (var i = 0; i < 10; i++) await up.RequestStream.WriteAsync(new EchoRequest { Text = i.ToString(), Payload = ByteString.CopyFrom(new byte[i]) });
        await up.RequestStream.CompleteAsync();
        var summary = await up;
        Assert.Equal(10, summary.Index);
        Assert.Equal(45, summary.TotalBytes);

        using var duplex = Client.AsyncDuplexStreamingCall(TestService.Duplex);
        for (var i = 0; i < 5; i++)
        {
            await duplex.RequestStream.WriteAsync(new EchoRequest { Text = "p" + i });
            Assert.True(await duplex.ResponseStream.MoveNext(default));
            Assert.Equal("p" + i, duplex.ResponseStream.Current.Text);
        }
        await duplex.RequestStream.CompleteAsync();
        Assert.False(await duplex.ResponseStream.MoveNext(default));
        Assert.Equal(StatusCode.OK, duplex.GetStatus().StatusCode);
    }

    [Fact]
    public async Task Deadline_is_DEADLINE_EXCEEDED_and_reaches_the_server()
    {
        await Client.AsyncUnaryCall(TestService.Echo, new EchoRequest());
        var key = "deadline-" + Guid.NewGuid().ToString("N");
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await Client.AsyncUnaryCall(TestService.Sleep, new EchoRequest { Text = key, DelayMs = 60_000 }, CallOptions.WithTimeout(TimeSpan.FromMilliseconds(1500))));
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        // Only a call that reached its handler can be seen ending there (see the matching in-process test).
        if (peer.WhenStarted(key).IsCompleted) await peer.WhenCancelled(key).WaitAsync(Waits.Long);
    }

    [Fact]
    public async Task Cancellation_is_CANCELLED_and_reaches_the_server()
    {
        var key = "cancel-" + Guid.NewGuid().ToString("N");
        using var cancel = new CancellationTokenSource();
        using var call = Client.AsyncUnaryCall(TestService.Sleep, new EchoRequest { Text = key, DelayMs = 60_000 }, new CallOptions(CancellationToken: cancel.Token));
        await peer.WhenStarted(key).WaitAsync(Waits.Long);
        cancel.Cancel();
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(Waits.Long));
        Assert.Equal(StatusCode.Cancelled, error.StatusCode);
        await peer.WhenCancelled(key).WaitAsync(Waits.Long);
    }

    [Theory]
    [InlineData(StatusCode.NotFound, "job 42 n'existe pas — ✗ 100% sûr")]
    [InlineData(StatusCode.ResourceExhausted, "queue full")]
    public async Task Error_status_with_non_ASCII_message_and_binary_trailer(StatusCode code, string message)
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await Client.AsyncUnaryCall(TestService.Fail, new EchoRequest { StatusCode = (int)code, StatusMessage = message }));
        Assert.Equal(code, error.StatusCode);
        Assert.Equal(message, error.Status.Detail);
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, error.Trailers.GetValueBytes("x-fail-bin"));
    }

    [Fact]
    public async Task Unknown_method_and_handler_exception()
    {
        var unknown = Method.Create<EchoRequest, EchoResponse>(MethodType.Unary, TestService.Name, "NoSuchMethod");
        Assert.Equal(StatusCode.Unimplemented, (await Assert.ThrowsAsync<RpcException>(async () => await Client.AsyncUnaryCall(unknown, new EchoRequest()))).StatusCode);
        Assert.Equal(StatusCode.Unknown, (await Assert.ThrowsAsync<RpcException>(async () => await Client.AsyncUnaryCall(TestService.Throw, new EchoRequest()))).StatusCode);
    }

    [Fact]
    public async Task Sixteen_MiB_messages_both_ways_and_limits()
    {
        var payload = new byte[16 * 1024 * 1024];
        new Random(11).NextBytes(payload);
        var echoed = await Client.AsyncUnaryCall(TestService.Echo, new EchoRequest { Payload = ByteString.CopyFrom(payload) });
        Assert.True(payload.AsSpan().SequenceEqual(echoed.Payload.Span));

        using var down = Client.AsyncServerStreamingCall(TestService.ServerStream, new EchoRequest { Count = 2, ResponseSize = 16 * 1024 * 1024 });
        var sizes = new List<int>();
        await foreach (var r in down.ResponseStream.ReadAllAsync()) sizes.Add(r.Payload.Length);
        Assert.Equal([16 * 1024 * 1024, 16 * 1024 * 1024], sizes);

        var oversize = await Assert.ThrowsAsync<RpcException>(async () =>
            await Client.AsyncUnaryCall(TestService.Echo, new EchoRequest { Payload = ByteString.CopyFrom(new byte[ServerFixture.LargeLimit + 1]) }));
        Assert.Equal(StatusCode.ResourceExhausted, oversize.StatusCode);

        using var small = new GrpcClient(peer.Address, new GrpcClientOptions { MaxReceiveMessageSize = 1024 });
        var tooBig = await Assert.ThrowsAsync<RpcException>(async () => await small.AsyncUnaryCall(TestService.Echo, new EchoRequest { ResponseSize = 4096 }));
        Assert.Equal(StatusCode.ResourceExhausted, tooBig.StatusCode);
        Assert.Equal("alive", (await Client.AsyncUnaryCall(TestService.Echo, new EchoRequest { Text = "alive" })).Text);
    }
}

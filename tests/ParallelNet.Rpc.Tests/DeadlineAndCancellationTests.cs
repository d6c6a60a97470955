using System.Net;
using ParallelNet.Rpc.Tests.Protos;

namespace ParallelNet.Rpc.Tests;

public abstract class DeadlineAndCancellationTests(ServerFixture fixture)
{
    private GrpcClient Client => fixture.Client;

    [Fact]
    public async Task Client_deadline_ends_the_call_with_DEADLINE_EXCEEDED_and_cancels_the_handler()
    {
        await Client.AsyncUnaryCall(TestService.Echo, new EchoRequest());
        var key = Guid.NewGuid().ToString();
        using var call = Client.AsyncUnaryCall(TestService.Sleep, new EchoRequest { Text = key, DelayMs = 60_000 }, CallOptions.WithTimeout(TimeSpan.FromMilliseconds(1500)));
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(Waits.Long));
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        // On a badly overloaded machine the request may not even reach the handler before the deadline;
        // when it did, the handler must see its token cancelled. (The server's own deadline is tested below.)
        if (fixture.Service.WhenStarted(key).IsCompleted) await fixture.Service.WhenCancelled(key).WaitAsync(Waits.Long);
    }

    [Fact]
    public async Task Deadlines_beyond_timer_range_behave_as_no_deadline()
    {
        var response = await Client.AsyncUnaryCall(TestService.Echo, new EchoRequest { Text = "far" }, new CallOptions(Deadline: DateTime.UtcNow.AddDays(400)));
        Assert.Equal("far", response.Text);
        Assert.Equal("max", (await Client.AsyncUnaryCall(TestService.Echo, new EchoRequest { Text = "max" }, new CallOptions(Deadline: DateTime.MaxValue))).Text);
    }

    [Fact]
    public async Task Deadline_already_past_fails_without_calling()
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await Client.AsyncUnaryCall(TestService.Echo, new EchoRequest(), new CallOptions(Deadline: DateTime.UtcNow.AddSeconds(-1))));
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
    }

    [Fact]
    public async Task Server_enforces_grpc_timeout_itself_even_if_the_client_keeps_waiting()
    {
        // A raw HTTP/2 client that sends grpc-timeout but never cancels: the server must answer DEADLINE_EXCEEDED.
        var key = Guid.NewGuid().ToString();
        using var http = new HttpClient(new SocketsHttpHandler()) { Timeout = Waits.Long };
        using var request = RawGrpc.Request(fixture.Server, TestService.Sleep.FullName, RawGrpc.Frame(new EchoRequest { Text = key, DelayMs = 60_000 }));
        request.Headers.TryAddWithoutValidation("grpc-timeout", "200m");
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("4", RawGrpc.Status(response));
        await fixture.Service.WhenCancelled(key).WaitAsync(Waits.Long);
    }

    [Fact]
    public async Task Cancelling_the_token_gives_CANCELLED_and_cancels_the_handler()
    {
        var key = Guid.NewGuid().ToString();
        using var cancel = new CancellationTokenSource();
        using var call = Client.AsyncUnaryCall(TestService.Sleep, new EchoRequest { Text = key, DelayMs = 60_000 }, new CallOptions(CancellationToken: cancel.Token));
        await fixture.Service.WhenStarted(key).WaitAsync(Waits.Long);
        cancel.Cancel();
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync.WaitAsync(Waits.Long));
        Assert.Equal(StatusCode.Cancelled, error.StatusCode);
        await fixture.Service.WhenCancelled(key).WaitAsync(Waits.Long);
    }

    [Fact]
    public async Task Client_that_vanishes_mid_stream_cancels_the_handler_and_the_server_keeps_serving()
    {
        var key = Guid.NewGuid().ToString();
        var call = Client.AsyncServerStreamingCall(TestService.ServerStream, new EchoRequest { Text = key, Count = 1_000_000, ResponseSize = 10_000 });
        Assert.True(await call.ResponseStream.MoveNext(default));
        call.Dispose();
        await fixture.Service.WhenCancelled(key).WaitAsync(Waits.Long);
        Assert.Equal("after", (await Client.AsyncUnaryCall(TestService.Echo, new EchoRequest { Text = "after" })).Text);
    }

    [Fact]
    public async Task Client_that_vanishes_while_the_handler_waits_for_its_next_message_cancels_the_handler()
    {
        var key = Guid.NewGuid().ToString();
        var call = Client.AsyncDuplexStreamingCall(TestService.Duplex);
        await call.RequestStream.WriteAsync(new EchoRequest { Text = key });
        Assert.True(await call.ResponseStream.MoveNext(default));
        call.Dispose();
        await fixture.Service.WhenCancelled(key).WaitAsync(Waits.Long);
        Assert.Equal("after", (await Client.AsyncUnaryCall(TestService.Echo, new EchoRequest { Text = "after" })).Text);
    }

    [Fact]
    public async Task Client_whose_connection_dies_mid_stream_does_not_hurt_the_server()
    {
        // Disposing an HttpClient waits for its active HTTP/2 streams, so the test kills the TCP socket itself.
        var key = Guid.NewGuid().ToString();
        System.Net.Sockets.Socket? socket = null;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, token) =>
            {
                socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(context.DnsEndPoint, token);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            },
        };
        using var http = new HttpClient(handler) { Timeout = Waits.Long };
        using var request = RawGrpc.Request(fixture.Server, TestService.ServerStream.FullName, RawGrpc.Frame(new EchoRequest { Text = key, Count = 1_000_000, ResponseSize = 10_000 }));
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        Assert.True(await body.ReadAsync(new byte[1024]) > 0);

        socket!.Close(0);

        await fixture.Service.WhenCancelled(key).WaitAsync(Waits.Long);
        Assert.Equal("after", (await Client.AsyncUnaryCall(TestService.Echo, new EchoRequest { Text = "after" })).Text);
    }
}

public sealed class DeadlineAndCancellationTestsOnKestrel(ServerFixture fixture) : DeadlineAndCancellationTests(fixture), IClassFixture<ServerFixture>;

public sealed class DeadlineAndCancellationTestsOnOwnHttp2(OwnHttp2ServerFixture fixture) : DeadlineAndCancellationTests(fixture), IClassFixture<OwnHttp2ServerFixture>;

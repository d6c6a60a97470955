using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Hosting;
using ParallelNet.Rpc.Internal;
using ParallelNet.Rpc.Tests.Protos;

namespace ParallelNet.Rpc.Tests;

/// <summary>The process that hosts a server decides when it stops; the server takes over no signals.</summary>
public sealed class GrpcServerLifetimeTests
{
    private static async Task<GrpcServer> StartAsync(GrpcServerTransport transport)
    {
        var options = new GrpcServerOptions { Transport = transport };
        options.Services.Add(new TestService().Definition());
        return await GrpcServer.StartAsync(options);
    }

    [Fact]
    public async Task The_Kestrel_host_leaves_SIGINT_and_SIGTERM_to_the_owning_process()
    {
        await using var server = await StartAsync(GrpcServerTransport.Kestrel);
        // The default ConsoleLifetime would register SIGINT/SIGTERM/SIGQUIT handlers that swallow Ctrl-C.
        Assert.IsType<OwnerControlledLifetime>(server.HostServices.GetRequiredService<IHostLifetime>());
    }

    [Fact]
    public async Task Kestrels_socket_transport_reads_and_writes_in_large_buffers_and_keeps_handlers_off_its_threads()
    {
        await using var server = await StartAsync(GrpcServerTransport.Kestrel);
        var sockets = server.HostServices.GetRequiredService<IOptions<SocketTransportOptions>>().Value;
        Assert.False(sockets.WaitForDataBeforeAllocatingBuffer);
        Assert.Equal(GrpcServer.SocketWriteBufferSize, sockets.MaxWriteBufferSize);
        Assert.False(sockets.UnsafePreferInlineScheduling);
        using var client = new GrpcClient(server.LoopbackAddress);
        Assert.Equal("wired", (await client.AsyncUnaryCall(TestService.Echo, new EchoRequest { Text = "wired" }, CallOptions.WithTimeout(Waits.Long))).Text);
    }

    [Theory]
    [InlineData(GrpcServerTransport.Kestrel)]
    [InlineData(GrpcServerTransport.Http2)]
    public async Task A_handler_blocking_its_thread_after_a_read_does_not_stall_other_calls_on_the_connection(GrpcServerTransport transport)
    {
        // Handler code must never run where the connection's frame loop runs, or one busy handler would silence the connection.
        using var release = new ManualResetEventSlim();
        var blockerRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = new GrpcServerOptions { Transport = transport };
        options.Services.Add(ServerServiceDefinition.CreateBuilder(TestServiceReflection.Descriptor.Services[0])
            .AddMethod(TestService.ClientStream, async (IAsyncStreamReader<EchoRequest> requests, ServerCallContext context) =>
            {
                await requests.MoveNext(context.CancellationToken);
                blockerRead.SetResult();
                release.Wait(Waits.Long * 2);
                return new EchoResponse { Text = "released" };
            })
            .AddMethod(TestService.Echo, (EchoRequest request, ServerCallContext _) => Task.FromResult(new EchoResponse { Text = request.Text }))
            .Build());
        await using var server = await GrpcServer.StartAsync(options);
        using var client = new GrpcClient(server.LoopbackAddress);

        using var blocker = client.AsyncClientStreamingCall(TestService.ClientStream, CallOptions.WithTimeout(Waits.Long * 3));
        await blocker.RequestStream.WriteAsync(new EchoRequest { Text = "block" });
        await blockerRead.Task.WaitAsync(Waits.Long);
        var echo = await client.AsyncUnaryCall(TestService.Echo, new EchoRequest { Text = "through" }, CallOptions.WithTimeout(Waits.Long));
        release.Set();
        await blocker.RequestStream.CompleteAsync();

        Assert.Equal("through", echo.Text);
        Assert.Equal("released", (await blocker).Text);
    }

    [Theory]
    [InlineData(GrpcServerTransport.Kestrel)]
    [InlineData(GrpcServerTransport.Http2)]
    public async Task RunAsync_serves_until_the_owner_cancels_then_stops(GrpcServerTransport transport)
    {
        await using var server = await StartAsync(transport);
        using var client = new GrpcClient(server.LoopbackAddress);
        using var ownerStops = new CancellationTokenSource();
        var run = server.RunAsync(ownerStops.Token);

        var before = await client.AsyncUnaryCall(TestService.Echo, new EchoRequest { Text = "up" }, CallOptions.WithTimeout(Waits.Long));
        Assert.False(run.IsCompleted);
        await ownerStops.CancelAsync();
        await run.WaitAsync(Waits.Long);

        Assert.Equal("up", before.Text);
        var after = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.AsyncUnaryCall(TestService.Echo, new EchoRequest(), CallOptions.WithTimeout(Waits.Long)));
        Assert.True(after.StatusCode == StatusCode.Unavailable, $"Expected Unavailable, got {after.Status}");
    }

    [Theory]
    [InlineData(GrpcServerTransport.Kestrel)]
    [InlineData(GrpcServerTransport.Http2)]
    public async Task RunAsync_returns_when_the_server_is_stopped_directly(GrpcServerTransport transport)
    {
        await using var server = await StartAsync(transport);
        var run = server.RunAsync(CancellationToken.None);
        await server.StopAsync();
        await run.WaitAsync(Waits.Long);
    }
}

using Google.Protobuf;
using Grpc.Health.V1;
using ParallelNet.Rpc.Tests.Protos;

namespace ParallelNet.Rpc.Tests;

/// <summary>Servers with non-default options: interceptor auth, TLS, shutdown.</summary>
public sealed class ServerOptionsTests
{
    private static async Task<GrpcServer> StartAsync(GrpcServerTransport transport, Action<GrpcServerOptions> configure)
    {
        var options = new GrpcServerOptions { Transport = transport };
        options.Services.Add(new TestService().Definition());
        configure(options);
        return await GrpcServer.StartAsync(options);
    }

    [Theory]
    [InlineData(GrpcServerTransport.Kestrel)]
    [InlineData(GrpcServerTransport.Http2)]
    public async Task Interceptor_can_refuse_calls_and_pass_state_to_handlers(GrpcServerTransport transport)
    {
        await using var server = await StartAsync(transport, o => o.Interceptor = context =>
        {
            if (context.RequestHeaders.GetValue("authorization") != "Bearer good")
                throw new RpcException(new Status(StatusCode.Unauthenticated, "Missing or wrong bearer token."));
            context.UserState["user"] = "alice";
            return Task.CompletedTask;
        });
        using var client = new GrpcClient(server.LoopbackAddress);

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await client.AsyncUnaryCall(TestService.Echo, new EchoRequest()));
        var wrong = await Assert.ThrowsAsync<RpcException>(async () => await client.AsyncUnaryCall(TestService.Echo, new EchoRequest(),
            new CallOptions(new Metadata().Add("authorization", "Bearer bad"))));
        var ok = await client.AsyncUnaryCall(TestService.Echo, new EchoRequest { Text = "in" }, new CallOptions(new Metadata().Add("Authorization", "Bearer good")));

        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, wrong.StatusCode);
        Assert.Equal("in", ok.Text);
    }

    [Theory]
    [InlineData(GrpcServerTransport.Kestrel)]
    [InlineData(GrpcServerTransport.Http2)]
    public async Task TLS_with_a_certificate_file_serves_clients_that_trust_it(GrpcServerTransport transport)
    {
        var path = TestCertificates.CreateLocalhostPfx("pw");
        try
        {
            await using var server = await StartAsync(transport, o => { o.CertificatePath = path; o.CertificatePassword = "pw"; });
            Assert.True(server.IsTls);
            using var trusting = new GrpcClient(server.LoopbackAddress, new GrpcClientOptions { ServerCertificateValidator = (_, _, _) => true });
            Assert.Equal("secure", (await trusting.AsyncUnaryCall(TestService.Echo, new EchoRequest { Text = "secure" })).Text);
            var large = new EchoRequest { Payload = ByteString.CopyFrom(new byte[3 * 1024 * 1024]), ResponseSize = 2 * 1024 * 1024 };
            Assert.Equal(2 * 1024 * 1024, (await trusting.AsyncUnaryCall(TestService.Echo, large)).Payload.Length);

            using var strict = new GrpcClient(server.LoopbackAddress);
            var error = await Assert.ThrowsAsync<RpcException>(async () => await strict.AsyncUnaryCall(TestService.Echo, new EchoRequest()));
            Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(GrpcServerTransport.Kestrel)]
    [InlineData(GrpcServerTransport.Http2)]
    public async Task Stop_turns_health_to_not_serving_ends_watches_and_refuses_new_calls(GrpcServerTransport transport)
    {
        var server = await StartAsync(transport, o => o.ShutdownGracePeriod = TimeSpan.FromSeconds(2));
        using var client = new GrpcClient(server.LoopbackAddress);
        var watch = Method.Create<HealthCheckRequest, HealthCheckResponse>(MethodType.ServerStreaming, "grpc.health.v1.Health", "Watch");
        using var call = client.AsyncServerStreamingCall(watch, new HealthCheckRequest());
        Assert.True(await call.ResponseStream.MoveNext(default));
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, call.ResponseStream.Current.Status);

        var stopping = server.StopAsync();
        var statuses = new List<HealthCheckResponse.Types.ServingStatus>();
        await foreach (var update in call.ResponseStream.ReadAllAsync().WithCancellation(new CancellationTokenSource(Waits.Long).Token))
            statuses.Add(update.Status);
        await stopping.WaitAsync(Waits.Long);
        await server.DisposeAsync();

        Assert.Equal([HealthCheckResponse.Types.ServingStatus.NotServing], statuses);
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await client.AsyncUnaryCall(TestService.Echo, new EchoRequest()));
        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
    }

    [Theory]
    [InlineData("localhost", GrpcServerTransport.Kestrel)]
    [InlineData("*", GrpcServerTransport.Kestrel)]
    [InlineData("127.0.0.1", GrpcServerTransport.Kestrel)]
    [InlineData("localhost", GrpcServerTransport.Http2)]
    [InlineData("*", GrpcServerTransport.Http2)]
    [InlineData("127.0.0.1", GrpcServerTransport.Http2)]
    public async Task Server_bound_to_any_host_form_is_reachable_at_its_loopback_address(string host, GrpcServerTransport transport)
    {
        await using var server = await StartAsync(transport, o => o.Host = host);
        Assert.InRange(server.Port, 1, 65535);
        using var client = new GrpcClient(server.LoopbackAddress);
        Assert.Equal(host, (await client.AsyncUnaryCall(TestService.Echo, new EchoRequest { Text = host })).Text);
    }

    [Fact]
    public async Task Invalid_options_are_refused_with_a_message_naming_the_setting()
    {
        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => GrpcServer.StartAsync(new GrpcServerOptions { MaxReceiveMessageSize = 0 }));
        Assert.Contains("MaxReceiveMessageSize", error.Message);
        var port = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => GrpcServer.StartAsync(new GrpcServerOptions { Port = 70000 }));
        Assert.Contains("Port", port.Message);
        var ping = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => GrpcServer.StartAsync(new GrpcServerOptions { KeepAlivePingDelay = TimeSpan.FromMilliseconds(10) }));
        Assert.Contains("KeepAlivePingDelay", ping.Message);
        var clientPing = Assert.Throws<ArgumentOutOfRangeException>(() => new GrpcClient(new Uri("http://127.0.0.1:1"), new GrpcClientOptions { KeepAlivePingTimeout = TimeSpan.Zero }));
        Assert.Contains("KeepAlivePingTimeout", clientPing.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ServerServiceDefinition.CreateBuilder().WithMaxReceiveMessageSize(0));
    }

    [Theory]
    [InlineData(GrpcServerTransport.Kestrel)]
    [InlineData(GrpcServerTransport.Http2)]
    public async Task A_service_can_carry_its_own_message_limits_beside_the_server_wide_ones(GrpcServerTransport transport)
    {
        // The server-wide limit stays tiny (health keeps it); the test service accepts 64 KiB and answers at most 8 KiB.
        var options = new GrpcServerOptions { MaxReceiveMessageSize = 1024, Transport = transport };
        options.Services.Add(new TestService().Definition(builder => builder.WithMaxReceiveMessageSize(64 * 1024).WithMaxSendMessageSize(8 * 1024)));
        await using var server = await GrpcServer.StartAsync(options);
        using var client = new GrpcClient(server.LoopbackAddress);

        var accepted = await client.AsyncUnaryCall(TestService.Echo, new EchoRequest { Payload = ByteString.CopyFrom(new byte[40_000]), ResponseSize = 1 });
        var tooBig = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.AsyncUnaryCall(TestService.Echo, new EchoRequest { Payload = ByteString.CopyFrom(new byte[70_000]), ResponseSize = 1 }));
        var answerTooBig = await Assert.ThrowsAsync<RpcException>(async () => await client.AsyncUnaryCall(TestService.Echo, new EchoRequest { ResponseSize = 10_000 }));
        var health = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.AsyncUnaryCall(Method.Create<HealthCheckRequest, HealthCheckResponse>(MethodType.Unary, "grpc.health.v1.Health", "Check"), new HealthCheckRequest { Service = new string('x', 2000) }));

        Assert.Equal(40_000, accepted.TotalBytes);
        Assert.Equal(StatusCode.ResourceExhausted, tooBig.StatusCode);
        Assert.Equal(StatusCode.ResourceExhausted, answerTooBig.StatusCode);
        Assert.Equal(StatusCode.ResourceExhausted, health.StatusCode);
        Assert.Equal("still serving", (await client.AsyncUnaryCall(TestService.Echo, new EchoRequest { Text = "still serving" })).Text);
    }
}

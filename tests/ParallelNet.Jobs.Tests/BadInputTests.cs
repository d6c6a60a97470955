using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using ParallelNet.Jobs.V1;
using ParallelNet.Rpc;

namespace ParallelNet.Jobs.Tests;

/// <summary>Bad requests get the right status, and the server keeps serving afterwards.</summary>
public sealed class BadInputTests
{
    [Theory]
    [InlineData("batch_size", -1)]
    [InlineData("virtual_shards", 3)]
    [InlineData("workers", 1000)]
    [InlineData("epochs", -2)]
    public async Task Invalid_specs_get_invalid_argument_naming_the_field(string field, int value)
    {
        await using var server = await TestJobServer.StartAsync(new GatedJobRunner());
        using var client = server.Client();
        var spec = field switch
        {
            "batch_size" => new JobSpec { BatchSize = value },
            "virtual_shards" => new JobSpec { VirtualShards = value },
            "workers" => new JobSpec { Workers = value },
            _ => new JobSpec { Epochs = value },
        };
        var error = await Assert.ThrowsAsync<RpcException>(() => RawSubmit(server, new SubmitJobRequest { Spec = spec }));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(field, error.Status.Detail);
        await AssertStillServing(server);
    }

    [Fact]
    public async Task Unknown_presets_optimizers_schedules_and_missing_specs_are_invalid_arguments()
    {
        await using var server = await TestJobServer.StartAsync(new GatedJobRunner());
        foreach (var (spec, field) in new (JobSpec?, string)[]
        {
            (new JobSpec { Model = "transformer" }, "model"),
            (new JobSpec { Optimizer = "rmsprop" }, "optimizer"),
            (new JobSpec { LrSchedule = "zigzag" }, "lr_schedule"),
            (new JobSpec { Optimizer = "adam", Momentum = 0.5f }, "momentum"),
            (new JobSpec { ModelYaml = "layers: [" }, "model_yaml"),
            (new JobSpec { LearningRate = float.NaN }, "learning_rate"),
            (null, "spec"),
        })
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => RawSubmit(server, new SubmitJobRequest { Spec = spec }));
            Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
            Assert.Contains(field, error.Status.Detail);
        }
        await AssertStillServing(server);
    }

    [Fact]
    public async Task Unknown_and_malformed_ids_get_not_found_and_invalid_argument()
    {
        await using var server = await TestJobServer.StartAsync(new GatedJobRunner());
        using var client = server.Client();
        Assert.Equal(StatusCode.NotFound, await JobTestExtensions.StatusOf(() => client.GetAsync("job-000000000000")));
        Assert.Equal(StatusCode.NotFound, await JobTestExtensions.StatusOf(() => client.CancelAsync("job-000000000000")));
        Assert.Equal(StatusCode.NotFound, await JobTestExtensions.StatusOf(() => client.WatchToEndAsync("job-000000000000")));
        Assert.Equal(StatusCode.NotFound, await JobTestExtensions.StatusOf(() => client.DownloadCheckpointAsync("job-000000000000", Stream.Null)));
        Assert.Equal(StatusCode.InvalidArgument, await JobTestExtensions.StatusOf(() => client.GetAsync("")));
        Assert.Equal(StatusCode.InvalidArgument, await JobTestExtensions.StatusOf(() => client.GetAsync("../../etc/passwd")));
        await AssertStillServing(server);
    }

    [Fact]
    public async Task Malformed_protobuf_and_oversize_messages_are_refused()
    {
        await using var server = await TestJobServer.StartAsync(new GatedJobRunner(), s => s.MaxReceiveMessageSize = 64 * 1024);
        using var http = new HttpClient(new SocketsHttpHandler()) { Timeout = Waits.Long };

        // A field header promising 100 bytes of a string that never come.
        using var malformed = await http.SendAsync(Request(server, "/parallelnet.v1.JobService/SubmitJob", Frame([0x0A, 100, 1, 2])));
        await malformed.Content.ReadAsByteArrayAsync();
        Assert.Equal(((int)StatusCode.Internal).ToString(), GrpcStatus(malformed));

        var huge = new SubmitJobRequest { Spec = new JobSpec { Name = new string('x', 100_000) } };
        Assert.Equal(StatusCode.ResourceExhausted, await JobTestExtensions.StatusOf(() => RawSubmit(server, huge)));
        await AssertStillServing(server);
    }

    [Fact]
    public async Task A_client_vanishing_mid_watch_leaves_the_server_serving()
    {
        var runner = new GatedJobRunner();
        await using var server = await TestJobServer.StartAsync(runner);
        using var client = server.Client();
        var job = await client.SubmitAsync(JobTestExtensions.TinySpirals());
        await runner.NextStartedAsync(1);
        using (var vanishing = new CancellationTokenSource())
        {
            await using var watch = client.WatchAsync(job.Id, vanishing.Token).GetAsyncEnumerator();
            Assert.True(await watch.MoveNextAsync());
            await vanishing.CancelAsync();
            await Assert.ThrowsAnyAsync<Exception>(async () => await watch.MoveNextAsync());
        }
        runner.Release(job.Id);
        var events = await client.WatchToEndAsync(job.Id);
        Assert.Equal(JobState.Succeeded, events.Last(e => e.EventCase == JobEvent.EventOneofCase.State).State.State);
        await AssertStillServing(server);
    }

    private static async Task AssertStillServing(TestJobServer server)
    {
        using var client = server.Client(server.Settings.Tokens.FirstOrDefault(t => t.Role == JobTokenRole.Admin)?.Token);
        await client.ListAsync();
    }

    private static async Task<Job> RawSubmit(TestJobServer server, SubmitJobRequest request)
    {
        using var grpc = GrpcClient.ForAddress(server.Address);
        using var call = grpc.AsyncUnaryCall(JobServiceMethods.SubmitJob, request);
        return await call.ResponseAsync;
    }

    private static byte[] Frame(byte[] payload)
    {
        var framed = new byte[5 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(framed, 5);
        return framed;
    }

    private static HttpRequestMessage Request(TestJobServer server, string path, byte[] body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server.Server.Server.LoopbackAddress, path))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/grpc");
        request.Headers.TE.ParseAdd("trailers");
        return request;
    }

    private static string? GrpcStatus(HttpResponseMessage response) =>
        response.TrailingHeaders.TryGetValues("grpc-status", out var trailer) ? trailer.First()
        : response.Headers.TryGetValues("grpc-status", out var header) ? header.First() : null;
}

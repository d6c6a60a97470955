using Google.Protobuf;
using ParallelNet.Cli.Bench.Protos;
using ParallelNet.Rpc;

namespace ParallelNet.Cli.Bench;

/// <summary>parallelnet.bench.v1.Bench: the calls `bench grpc` times, and the server the hidden `bench grpc-server` runs.</summary>
internal static class RpcBenchService
{
    public const string Name = "parallelnet.bench.v1.Bench";

    /// <summary>Large enough for the 64 MiB measurements and a margin for bigger --sizes.</summary>
    public const int MessageLimit = 256 * 1024 * 1024;

    // The handlers only count each payload's bytes before reading the next, so their receive buffers can be reused.
    public static readonly Method<Payload, Ack> Unary = Method.Create<Payload, Ack>(MethodType.Unary, Name, "Unary", lendsReceivedBytes: true);
    public static readonly Method<DownloadRequest, Payload> Download = Method.Create<DownloadRequest, Payload>(MethodType.ServerStreaming, Name, "Download", lendsReceivedBytes: true);
    public static readonly Method<Payload, Ack> Upload = Method.Create<Payload, Ack>(MethodType.ClientStreaming, Name, "Upload", lendsReceivedBytes: true);

    public static ServerServiceDefinition Definition() =>
        ServerServiceDefinition.CreateBuilder(BenchReflection.Descriptor.Services[0])
            .AddMethod(Unary, (Payload request, ServerCallContext _) => Task.FromResult(new Ack { Bytes = request.Data.Length }))
            .AddMethod(Download, async (DownloadRequest request, IServerStreamWriter<Payload> stream, ServerCallContext context) =>
            {
                if (request.Size < 0 || request.Size > MessageLimit || request.Count < 0)
                    throw new RpcException(new Status(StatusCode.InvalidArgument, $"size must be 0..{MessageLimit} and count >= 0; got size {request.Size}, count {request.Count}."));
                // Wrapped, not copied: one zeroed array, as grpcio's peer makes with bytes(size).
                var payload = new Payload { Data = UnsafeByteOperations.UnsafeWrap(new byte[request.Size]) };
                for (var i = 0; i < request.Count; i++) await stream.WriteAsync(payload, context.CancellationToken);
            })
            .AddMethod(Upload, async (IAsyncStreamReader<Payload> requests, ServerCallContext context) =>
            {
                long bytes = 0;
                while (await requests.MoveNext(context.CancellationToken)) bytes += requests.Current.Data.Length;
                return new Ack { Bytes = bytes };
            })
            .Build();

    /// <summary>Serves until standard input closes or Ctrl-C; prints "PORT n" once listening so the parent can connect.</summary>
    public static async Task<int> ServeAsync(string host, int port, GrpcServerTransport transport, TextWriter output, TextReader input, CancellationToken cancellationToken)
    {
        var options = new GrpcServerOptions { Host = host, Port = port, MaxReceiveMessageSize = MessageLimit, Transport = transport };
        options.Services.Add(Definition());
        await using var server = await GrpcServer.StartAsync(options, cancellationToken);
        output.WriteLine($"PORT {server.Port}");
        output.Flush();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var run = server.RunAsync(stop.Token);
        // A console read cannot be cancelled; whichever comes first, stdin's end or Ctrl-C, stops the server.
        await Task.WhenAny(input.ReadToEndAsync(), run);
        await stop.CancelAsync();
        await run;
        return ExitCodes.Success;
    }
}

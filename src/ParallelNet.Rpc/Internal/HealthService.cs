using System.Threading.Channels;
using Grpc.Health.V1;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace ParallelNet.Rpc.Internal;

/// <summary>grpc.health.v1.Health over a <see cref="HealthStatusRegistry"/> (grpc/grpc doc/health-checking.md).</summary>
internal static class HealthService
{
    public static readonly Method<HealthCheckRequest, HealthCheckResponse> Check =
        new(MethodType.Unary, "grpc.health.v1.Health", "Check", HealthCheckRequest.Parser, HealthCheckResponse.Parser);

    public static readonly Method<HealthCheckRequest, HealthCheckResponse> Watch =
        new(MethodType.ServerStreaming, "grpc.health.v1.Health", "Watch", HealthCheckRequest.Parser, HealthCheckResponse.Parser);

    public static ServerServiceDefinition Create(HealthStatusRegistry registry, CancellationToken serverStopping) =>
        ServerServiceDefinition.CreateBuilder(HealthReflection.Descriptor.Services[0])
            .AddMethod(Check, (request, _) => registry.GetStatus(request.Service) is { } status
                ? Task.FromResult(new HealthCheckResponse { Status = status })
                : throw new RpcException(new Status(StatusCode.NotFound, $"Unknown service '{request.Service}'.")))
            .AddMethod(Watch, (request, stream, context) => WatchAsync(registry, request.Service, stream, context, serverStopping))
            .Build();

    private static async Task WatchAsync(HealthStatusRegistry registry, string service, IServerStreamWriter<HealthCheckResponse> stream,
        ServerCallContext context, CancellationToken serverStopping)
    {
        // Only the latest status matters to a watcher, so a slow reader skips intermediate ones.
        var changes = Channel.CreateBounded<ServingStatus>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest });
        var (current, subscription) = registry.Watch(service, status => changes.Writer.TryWrite(status));
        using (subscription)
        using (serverStopping.Register(() => changes.Writer.TryComplete()))
        {
            var last = current;
            await stream.WriteAsync(new HealthCheckResponse { Status = current }, context.CancellationToken).ConfigureAwait(false);
            await foreach (var status in changes.Reader.ReadAllAsync(context.CancellationToken).ConfigureAwait(false))
            {
                if (status == last) continue;
                last = status;
                await stream.WriteAsync(new HealthCheckResponse { Status = status }, context.CancellationToken).ConfigureAwait(false);
            }
        }
    }
}

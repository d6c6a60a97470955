using System.CommandLine;
using Grpc.Health.V1;
using ParallelNet.Rpc;

namespace ParallelNet.Cli.Commands.Node;

/// <summary>
/// Hidden: one grpc.health.v1 Check, for the Docker HEALTHCHECK. Exit 0 when the node answers SERVING,
/// 1 otherwise (not serving, unreachable, timeout), with one line saying which.
/// </summary>
internal static class HealthCommand
{
    private static readonly Method<HealthCheckRequest, HealthCheckResponse> Check =
        Method.Create<HealthCheckRequest, HealthCheckResponse>(MethodType.Unary, "grpc.health.v1.Health", "Check");

    public static Command Create()
    {
        var server = new Option<string?>("--server") { Description = "HOST:PORT of the node (default: 127.0.0.1 and the port of PARALLELNET_LISTEN, else 7070)." };
        var service = new Option<string>("--service") { Description = "The service to check (default: the whole server).", DefaultValueFactory = _ => "" };
        var timeout = new Option<double>("--timeout-seconds") { Description = "Give up after this long.", DefaultValueFactory = _ => 3 };
        var command = new Command("health", "Check a node's grpc.health.v1 status (the Docker health check).") { server, service, timeout };
        command.Hidden = true;
        command.SetAction(async (parse, cancellation) =>
        {
            string target = parse.GetValue(server) ?? DefaultTarget();
            var (host, port) = NodeSettings.ParseEndpoint(target, "--server");
            using var client = GrpcClient.ForAddress($"http://{host}:{port}");
            try
            {
                var call = client.AsyncUnaryCall(Check, new HealthCheckRequest { Service = parse.GetValue(service) },
                    CallOptions.WithTimeout(TimeSpan.FromSeconds(parse.GetValue(timeout)), cancellationToken: cancellation));
                var response = await call.ResponseAsync;
                parse.InvocationConfiguration.Output.WriteLine($"{target}: {response.Status}");
                return response.Status == HealthCheckResponse.Types.ServingStatus.Serving ? ExitCodes.Success : ExitCodes.Failure;
            }
            catch (RpcException e)
            {
                parse.InvocationConfiguration.Error.WriteLine($"{target}: {e.StatusCode} ({e.Status.Detail})");
                return ExitCodes.Failure;
            }
        });
        return command;
    }

    private static string DefaultTarget()
    {
        string? listen = Environment.GetEnvironmentVariable(NodeSettings.EnvironmentName("listen"));
        int port = listen is null ? 7070 : NodeSettings.ParseEndpoint(listen, NodeSettings.EnvironmentName("listen")).Port;
        return $"127.0.0.1:{port}";
    }
}

using System.CommandLine;
using System.Runtime.InteropServices;
using ParallelNet.Jobs;
using ParallelNet.Rpc;
using ParallelNet.Training.Jobs;

namespace ParallelNet.Cli.Commands;

/// <summary>`parallelnet serve`: the job service with in-process workers, until SIGINT or SIGTERM.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var port = new Option<int?>("--port") { Description = $"TCP port (default {new JobServerSettings().Port}; 0 picks a free one)." };
        var host = new Option<string?>("--host") { Description = "Address to bind (default 127.0.0.1; any other address needs tokens in --config)." };
        var config = new Option<FileInfo?>("--config") { Description = "Server settings (YAML): host, port, state_dir, data_dir, max_concurrent_jobs, max_queued_jobs, server_transport, tokens." };
        var stateDir = new Option<DirectoryInfo?>("--state-dir") { Description = "Where the job database and checkpoints live (default ~/.local/share/parallelnet/server)." };
        var dataDir = new Option<DirectoryInfo?>("--data-dir") { Description = "MNIST directory for jobs that name none." };
        var concurrency = new Option<int?>("--max-concurrent-jobs") { Description = "Jobs trained at the same time (default 1)." };
        var serverTransport = new Option<GrpcServerTransport?>("--server-transport") { Description = "The HTTP/2 server: Http2 (our own, default) or Kestrel." };
        var threads = new Option<int>("--threads") { Description = "CPU threads per worker (0 = the cores divided among the workers).", DefaultValueFactory = _ => 0 };
        var command = new Command("serve", "Run the job service (gRPC, parallelnet.v1.JobService) with in-process workers until SIGINT/SIGTERM.")
        {
            port, host, config, stateDir, dataDir, concurrency, serverTransport, threads,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = parse.GetValue(config) is { } file ? JobServerSettingsFile.Load(file.FullName) : new JobServerSettings();
            if (parse.GetValue(port) is { } p) settings.Port = p;
            if (parse.GetValue(host) is { } h) settings.Host = h;
            if (parse.GetValue(stateDir) is { } s) settings.StateDirectory = s.FullName;
            if (parse.GetValue(dataDir) is { } d) settings.DataDirectory = d.FullName;
            if (parse.GetValue(concurrency) is { } c) settings.MaxConcurrentJobs = c;
            if (parse.GetValue(serverTransport) is { } t) settings.ServerTransport = t;
            if (parse.GetValue(threads) < 0) throw new UsageException($"--threads must be non-negative, got {parse.GetValue(threads)}.");

            // The generic host inside GrpcServer would take SIGINT/SIGTERM for itself; these registrations see them first.
            var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            void OnSignal(PosixSignalContext context)
            {
                context.Cancel = true;
                stop.TrySetResult();
            }
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
            await using var registration = cancellation.Register(() => stop.TrySetResult());

            var output = parse.InvocationConfiguration.Output;
            await using var server = await JobServer.StartAsync(settings, new InProcessJobRunner(parse.GetValue(threads)), loggers: null);
            var address = server.Server.LoopbackAddress;
            output.WriteLine($"parallelnet: job server listening on {settings.Host}:{server.Server.Port} (local address {address.Host}:{address.Port}); "
                + $"state in {settings.StateDirectory}; {(settings.Tokens.Count == 0 ? "no authentication (loopback only)" : $"{settings.Tokens.Count} token(s)")}");
            output.Flush();
            await stop.Task;
            output.WriteLine("parallelnet: stopping: running jobs stop after their step in flight and resume on the next start");
            output.Flush();
            await server.StopAsync();
            return ExitCodes.Success;
        });
        return command;
    }
}

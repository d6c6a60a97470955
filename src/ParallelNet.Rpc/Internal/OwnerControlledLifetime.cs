using Microsoft.Extensions.Hosting;

namespace ParallelNet.Rpc.Internal;

/// <summary>
/// The generic host's lifetime for a <see cref="GrpcServer"/>: unlike the default ConsoleLifetime it registers no
/// SIGINT/SIGTERM/SIGQUIT handlers, so Ctrl-C reaches the process that hosts the server and that process decides
/// (StopAsync, or a cancelled token given to RunAsync) when the server stops.
/// </summary>
internal sealed class OwnerControlledLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

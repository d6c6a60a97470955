using Microsoft.Extensions.Logging;
using ParallelNet.Jobs.Internal;
using ParallelNet.Rpc;
using ParallelNet.Training.Jobs;

namespace ParallelNet.Jobs;

/// <summary>
/// The job service ready to be hosted on any <see cref="GrpcServer"/>: a stand-alone `parallelnet serve`, or the
/// coordinator node of a cluster on its own gRPC port. <c>Create</c>, <see cref="AddTo"/> the server's options,
/// <see cref="Start"/> (resumes stored jobs), and <see cref="StopAsync"/> when the server stops.
/// </summary>
public sealed class JobServiceHost : IAsyncDisposable
{
    private readonly JobServerSettings _settings;

    private JobServiceHost(JobServerSettings settings, JobManager jobs, ServerServiceDefinition service)
    {
        _settings = settings;
        Jobs = jobs;
        Service = service;
    }

    public JobManager Jobs { get; }

    /// <summary>parallelnet.v1.JobService bound to <see cref="Jobs"/>, with authorization.</summary>
    public ServerServiceDefinition Service { get; }

    /// <summary>Opens the job store (<see cref="JobServerSettings.StateDirectory"/>); jobs run on <paramref name="runner"/>.</summary>
    public static JobServiceHost Create(JobServerSettings settings, IJobRunner runner, TimeProvider? time = null, ILoggerFactory? loggers = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(runner);
        var jobs = new JobManager(settings, runner, time, loggers);
        var authorizer = new BearerTokenAuthorizer([.. settings.Tokens]);
        return new JobServiceHost(settings, jobs, new JobServiceHandlers(jobs, authorizer).Build());
    }

    /// <summary>
    /// Adds the service to a server's options. Refuses (ArgumentException) a server bound beyond loopback when no
    /// tokens are configured: the job API would be open to anyone on the network.
    /// </summary>
    public void AddTo(GrpcServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _settings.Validate(options.Host);
        options.Services.Add(Service);
    }

    /// <summary>Starts running queued jobs and resumes those that were running when the server last stopped.</summary>
    public void Start() => Jobs.Start();

    /// <summary>Stops running jobs after their step in flight (they resume on the next start).</summary>
    public Task StopAsync() => Jobs.StopAsync();

    public ValueTask DisposeAsync() => Jobs.DisposeAsync();
}

/// <summary>A stand-alone job server: a <see cref="GrpcServer"/> hosting a <see cref="JobServiceHost"/> (what `parallelnet serve` runs).</summary>
public sealed class JobServer : IAsyncDisposable
{
    private JobServer(GrpcServer server, JobServiceHost host)
    {
        Server = server;
        Host = host;
    }

    public GrpcServer Server { get; }

    public JobServiceHost Host { get; }

    public static async Task<JobServer> StartAsync(JobServerSettings settings, IJobRunner runner, TimeProvider? time = null, ILoggerFactory? loggers = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var options = new GrpcServerOptions
        {
            Host = settings.Host,
            Port = settings.Port,
            MaxReceiveMessageSize = settings.MaxReceiveMessageSize,
            Transport = settings.ServerTransport,
            CertificatePath = settings.CertificatePath,
            CertificatePassword = settings.CertificatePassword,
            LoggerFactory = loggers,
        };
        settings.Validate(options.Host);
        var host = JobServiceHost.Create(settings, runner, time, loggers);
        try
        {
            host.AddTo(options);
            var server = await GrpcServer.StartAsync(options).ConfigureAwait(false);
            host.Start();
            return new JobServer(server, host);
        }
        catch
        {
            await host.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Stops accepting calls and, meanwhile, stops running jobs after their step in flight (which ends their watches).</summary>
    public Task StopAsync() => Task.WhenAll(Server.StopAsync(), Host.StopAsync());

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await Server.DisposeAsync().ConfigureAwait(false);
        await Host.DisposeAsync().ConfigureAwait(false);
    }
}

using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ParallelNet.Rpc.Internal;
using ParallelNet.Rpc.Internal.Http2;

namespace ParallelNet.Rpc;

/// <summary>
/// A running gRPC server on our own HTTP/2 layer or on Kestrel (<see cref="GrpcServerOptions.Transport"/>), HTTP/2
/// cleartext or TLS with a certificate: the given services,
/// grpc.health.v1.Health and server reflection. Start with <see cref="StartAsync"/>, stop with <see cref="StopAsync"/>.
/// </summary>
public sealed class GrpcServer : IAsyncDisposable
{
    private readonly IHost? _host;
    private readonly Http2Server? _ownServer;
    private readonly CancellationTokenSource _stopRequested;
    private readonly CancellationTokenSource _callsCancelled;
    private readonly TimeSpan _gracePeriod;
    private int _stopped;

    private readonly string _localHost;

    private GrpcServer(IHost? host, Http2Server? ownServer, int port, bool isTls, string boundHost, HealthStatusRegistry health, CancellationTokenSource stopRequested,
        CancellationTokenSource callsCancelled, TimeSpan gracePeriod)
    {
        _host = host;
        _ownServer = ownServer;
        Port = port;
        // A server on every interface or on loopback is reached locally through loopback; otherwise through its own address.
        _localHost = boundHost switch
        {
            "*" or "0.0.0.0" or "[::]" or "::" or "localhost" or "127.0.0.1" => isTls ? "localhost" : "127.0.0.1",
            _ when IPAddress.TryParse(boundHost.Trim('[', ']'), out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 => $"[{ip}]",
            _ => boundHost,
        };
        IsTls = isTls;
        Health = health;
        _stopRequested = stopRequested;
        _callsCancelled = callsCancelled;
        _gracePeriod = gracePeriod;
    }

    /// <summary>The bound TCP port (the chosen one when the options asked for port 0).</summary>
    public int Port { get; }

    public bool IsTls { get; }

    /// <summary>The statuses grpc.health.v1.Health reports; every hosted service starts SERVING.</summary>
    public HealthStatusRegistry Health { get; }

    /// <summary>The address a client on this machine dials, e.g. http://127.0.0.1:5000 (https://localhost:5000 with TLS).</summary>
    public Uri LoopbackAddress => new($"{(IsTls ? "https" : "http")}://{_localHost}:{Port}");

    public static async Task<GrpcServer> StartAsync(GrpcServerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var loggerFactory = options.LoggerFactory ?? NullLoggerFactory.Instance;
        var health = new HealthStatusRegistry();
        var stopRequested = new CancellationTokenSource();
        var callsCancelled = new CancellationTokenSource();

        var services = new List<ServerServiceDefinition>(options.Services);
        if (options.EnableHealthService) services.Add(HealthService.Create(health, stopRequested.Token));
        if (options.EnableReflectionService)
            services.AddRange(ReflectionService.CreateDefinitions(services.Where(s => s.Descriptor is not null).Select(s => s.Descriptor!)));
        var dispatcher = new RequestDispatcher(services, options, loggerFactory.CreateLogger<GrpcServer>(), callsCancelled.Token);
        var certificate = options.CertificatePath is null ? null
            : X509CertificateLoader.LoadPkcs12FromFile(options.CertificatePath, options.CertificatePassword);
        if (options.Transport == GrpcServerTransport.Http2)
        {
            var ownServer = Http2Server.Start(ResolveBindAddress(options.Host), options.Port, certificate,
                new Http2ServerSettings(options.Http2StreamWindowSize, options.Http2ConnectionWindowSize, options.KeepAlivePingDelay, options.KeepAlivePingTimeout,
                    new LargeBlockMemoryPool(LargeBlockMemoryPool.DefaultBlockSize, LargeBlockMemoryPool.DefaultMaxRetainedBlocks)),
                dispatcher.DispatchAsync, loggerFactory.CreateLogger<GrpcServer>());
            SetAllServing(health, services);
            return new GrpcServer(null, ownServer, ownServer.Port, certificate is not null, options.Host, health, stopRequested, callsCancelled,
                options.ShutdownGracePeriod);
        }

        var host = new HostBuilder()
            .ConfigureLogging(logging => logging.ClearProviders())
            .ConfigureServices(s => s
                .AddSingleton(loggerFactory)
                // HostBuilder's default ConsoleLifetime takes over SIGINT/SIGTERM and swallows them; the owner decides when we stop.
                .AddSingleton<IHostLifetime, OwnerControlledLifetime>())
            .ConfigureWebHost(web => web
                .UseKestrel(kestrel => ConfigureKestrel(kestrel, options, certificate))
                .UseSockets(ConfigureSockets)
                // Registered after UseKestrel so that it replaces Kestrel's 4 KiB-block pools whichever way Kestrel registers them.
                .ConfigureServices(s => s.AddSingleton<IMemoryPoolFactory<byte>>(
                    new LargeBlockMemoryPoolFactory(LargeBlockMemoryPool.DefaultBlockSize, LargeBlockMemoryPool.DefaultMaxRetainedBlocks)))
                .Configure(app => app.Run(dispatcher.DispatchAsync)))
            .Build();
        try
        {
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            host.Dispose();
            throw;
        }

        var addresses = host.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        // Kestrel reports e.g. "http://127.0.0.1:41234" or "https://[::]:41234"; the port follows the last colon.
        var port = addresses.Select(a => int.Parse(a.AsSpan(a.LastIndexOf(':') + 1).TrimEnd('/'), System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault();
        SetAllServing(health, services);
        return new GrpcServer(host, null, port, certificate is not null, options.Host, health, stopRequested, callsCancelled, options.ShutdownGracePeriod);
    }

    private static void SetAllServing(HealthStatusRegistry health, List<ServerServiceDefinition> services)
    {
        health.SetStatus("", Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving);
        foreach (var service in services) health.SetStatus(service.Name, Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving);
    }

    /// <summary>The address to bind for GrpcServerOptions.Host; IPv6Any stands for every interface (dual mode).</summary>
    private static IPAddress ResolveBindAddress(string host) => host switch
    {
        "*" or "0.0.0.0" or "[::]" or "::" => IPAddress.IPv6Any,
        "localhost" => IPAddress.Loopback,
        _ => IPAddress.TryParse(host.Trim('[', ']'), out var address) ? address
            : throw new ArgumentException($"GrpcServerOptions.Host '{host}' is not an IP address; use e.g. 127.0.0.1, ::1, localhost or *."),
    };

    /// <summary>
    /// The socket transport between Kestrel and the kernel, tuned for tensor-sized messages: each syscall and each
    /// wake-up of the HTTP/2 frame writer is paid per buffer, so buffers are large.
    /// </summary>
    private static void ConfigureSockets(SocketTransportOptions sockets)
    {
        // The default waits for data with a zero-byte read before renting a buffer: two syscalls per receive. A
        // server with a handful of busy peers (the cluster's shape) saves the second one for the price of an idle
        // connection holding one pool block.
        sockets.WaitForDataBeforeAllocatingBuffer = false;
        // The default 64 KiB makes the frame writer stop and wait for the socket four times per 256 KiB sent.
        sockets.MaxWriteBufferSize = SocketWriteBufferSize;
        // UnsafePreferInlineScheduling stays off: it saves a thread hop per receive, but continuations of handler
        // writes could then run on the socket thread, and a cluster node's heartbeats must never wait behind a handler.
    }

    /// <summary>How much response data may wait for the socket before the HTTP/2 frame writer pauses.</summary>
    internal const int SocketWriteBufferSize = 1024 * 1024;

    private static void ConfigureKestrel(KestrelServerOptions kestrel, GrpcServerOptions options, X509Certificate2? certificate)
    {
        kestrel.AddServerHeader = false;
        // Message sizes are enforced per message; a stream may carry many.
        kestrel.Limits.MaxRequestBodySize = null;
        // Long client streams idle between messages; Kestrel's default rate limit would abort them.
        kestrel.Limits.MinRequestBodyDataRate = null;
        kestrel.Limits.MinResponseDataRate = null;
        kestrel.Limits.Http2.InitialStreamWindowSize = options.Http2StreamWindowSize;
        kestrel.Limits.Http2.InitialConnectionWindowSize = options.Http2ConnectionWindowSize;
        // Larger frames from clients that honour it mean fewer frames per tensor.
        kestrel.Limits.Http2.MaxFrameSize = 1024 * 1024;
        kestrel.Limits.Http2.KeepAlivePingDelay = options.KeepAlivePingDelay;
        kestrel.Limits.Http2.KeepAlivePingTimeout = options.KeepAlivePingTimeout;

        void Endpoint(ListenOptions listen)
        {
            listen.Protocols = HttpProtocols.Http2;
            if (certificate is not null) listen.UseHttps(certificate);
        }

        var address = ResolveBindAddress(options.Host);
        if (address.Equals(IPAddress.IPv6Any)) kestrel.ListenAnyIP(options.Port, Endpoint);
        else kestrel.Listen(address, options.Port, Endpoint);
    }

    /// <summary>
    /// Serves until <paramref name="stoppingToken"/> is cancelled (e.g. by the owner's Ctrl-C handling) or
    /// <see cref="StopAsync"/> is called, then stops gracefully. The server installs no signal handlers of its own.
    /// </summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, _stopRequested.Token);
        try
        {
            await Task.Delay(Timeout.Infinite, either.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The owner's signal to stop; stopping is what follows.
        }
        await StopAsync().ConfigureAwait(false);
    }

    /// <summary>The host's services, for tests that check how Kestrel is wired.</summary>
    internal IServiceProvider HostServices => _host?.Services
        ?? throw new InvalidOperationException("This server runs on the own HTTP/2 transport; it has no Kestrel host.");

    /// <summary>
    /// Stops gracefully: health turns NOT_SERVING and watches end, new connections are refused, calls in
    /// flight get the grace period to finish, then are cancelled (UNAVAILABLE).
    /// </summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0) return;
        Health.SetAllNotServing();
        await _stopRequested.CancelAsync().ConfigureAwait(false);
        _callsCancelled.CancelAfter(_gracePeriod);
        if (_ownServer is not null)
        {
            await _ownServer.StopAsync(_gracePeriod).ConfigureAwait(false);
            return;
        }
        using var hardStop = new CancellationTokenSource(_gracePeriod + TimeSpan.FromSeconds(2));
        try
        {
            await _host!.StopAsync(hardStop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Kestrel aborted the connections that outlived the grace period; that is the intent.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _host?.Dispose();
        _stopRequested.Dispose();
        _callsCancelled.Dispose();
    }
}

namespace ParallelNet.Rpc.Tests;

/// <summary>One server (on Kestrel) with the test service (32 MiB receive limit) and a client for it, shared by a test class.</summary>
public class ServerFixture : IAsyncLifetime
{
    protected virtual GrpcServerTransport Transport => GrpcServerTransport.Kestrel;

    public const int LargeLimit = 32 * 1024 * 1024;

    internal TestService Service { get; } = new();

    public GrpcServer Server { get; private set; } = null!;

    public GrpcClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var options = new GrpcServerOptions { MaxReceiveMessageSize = LargeLimit, Transport = Transport };
        options.Services.Add(Service.Definition());
        Server = await GrpcServer.StartAsync(options);
        Client = new GrpcClient(Server.LoopbackAddress, new GrpcClientOptions { MaxReceiveMessageSize = LargeLimit });
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }
}

/// <summary>The same server on our own HTTP/2 transport.</summary>
public sealed class OwnHttp2ServerFixture : ServerFixture
{
    protected override GrpcServerTransport Transport => GrpcServerTransport.Http2;
}

/// <summary>Generous limits: the machine is shared and loaded, so waits are long but tests never sleep to synchronize.</summary>
internal static class Waits
{
    public static readonly TimeSpan Long = TimeSpan.FromSeconds(30);
}

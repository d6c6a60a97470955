using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace ParallelNet.Rpc.Internal.Http2;

/// <summary>
/// Our own HTTP/2 server (h2c with prior knowledge, or TLS with ALPN h2 when it has a certificate): a socket listener
/// whose connections run every request stream as a call through the dispatcher. Stopping refuses new connections and streams (GOAWAY), lets calls in flight finish
/// within the grace period, then closes what is left.
/// </summary>
internal sealed class Http2Server
{
    /// <summary>How long a client may take over its TLS handshake.</summary>
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>What a TLS client that did not negotiate h2 reads (it most likely speaks HTTP/1.1) before the connection closes.</summary>
    private static readonly byte[] Http2OnlyAnswer =
        "HTTP/1.1 505 HTTP Version Not Supported\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nThis server speaks gRPC over HTTP/2 only: offer ALPN h2.\r\n"u8.ToArray();

    private readonly Socket _listener;
    private readonly X509Certificate2? _certificate;
    private readonly Http2ServerSettings _settings;
    private readonly Func<IServerCallTransport, Task> _dispatch;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Http2ServerConnection, Task> _connections = new();
    private Task _acceptLoop = Task.CompletedTask;

    private Http2Server(Socket listener, X509Certificate2? certificate, Http2ServerSettings settings, Func<IServerCallTransport, Task> dispatch, ILogger logger)
    {
        _listener = listener;
        _certificate = certificate;
        _settings = settings;
        _dispatch = dispatch;
        _logger = logger;
    }

    public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

    /// <summary>Listens on the address; with a <paramref name="certificate"/> every connection is TLS (h2 via ALPN), without one h2c.</summary>
    public static Http2Server Start(IPAddress address, int port, X509Certificate2? certificate, Http2ServerSettings settings, Func<IServerCallTransport, Task> dispatch,
        ILogger logger)
    {
        var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (address.Equals(IPAddress.IPv6Any)) listener.DualMode = true;
            listener.Bind(new IPEndPoint(address, port));
            listener.Listen(512);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        var server = new Http2Server(listener, certificate, settings, dispatch, logger);
        server._acceptLoop = Task.Run(server.AcceptLoopAsync);
        return server;
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException || _stopping.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException ex)
            {
                // E.g. a connection reset before it was accepted; the listener itself is fine.
                _logger.LogDebug(ex, "Accepting a connection failed.");
                continue;
            }
            socket.NoDelay = true;
            if (_certificate is null) Serve(socket, new NetworkStream(socket, ownsSocket: true));
            else _ = HandshakeAndServeAsync(socket, _certificate);
        }
    }

    private void Serve(Socket socket, Stream transport)
    {
        var connection = new Http2ServerConnection(socket, transport, _settings, _dispatch, _logger);
        _connections[connection] = RunConnectionAsync(connection);
    }

    /// <summary>The TLS handshake runs off the accept loop, so one slow client cannot hold up the others.</summary>
    private async Task HandshakeAndServeAsync(Socket socket, X509Certificate2 certificate)
    {
        var peer = Http2ServerConnection.PeerOf(socket);
        var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            timeout.CancelAfter(HandshakeTimeout);
            await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = certificate,
                ApplicationProtocols = [SslApplicationProtocol.Http2],
                ClientCertificateRequired = false,
            }, timeout.Token).ConfigureAwait(false);
            if (ssl.NegotiatedApplicationProtocol != SslApplicationProtocol.Http2)
            {
                _logger.LogWarning("Refused the TLS connection from {Peer}: it did not offer HTTP/2 (ALPN h2), and this server speaks gRPC over HTTP/2 only.", peer);
                await ssl.WriteAsync(Http2OnlyAnswer, timeout.Token).ConfigureAwait(false);
                await ssl.DisposeAsync().ConfigureAwait(false);
                return;
            }
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            _logger.LogWarning("The TLS handshake with {Peer} failed: {Reason}", peer, ex.Message);
            await ssl.DisposeAsync().ConfigureAwait(false);
            return;
        }
        if (_stopping.IsCancellationRequested)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            return;
        }
        Serve(socket, ssl);
    }

    private async Task RunConnectionAsync(Http2ServerConnection connection)
    {
        await Task.Yield();
        try
        {
            await connection.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            _connections.TryRemove(connection, out _);
        }
    }

    /// <summary>Stops accepting, sends GOAWAY everywhere, waits up to <paramref name="gracePeriod"/> (plus a little for cancelled calls to answer), then closes every connection.</summary>
    public async Task StopAsync(TimeSpan gracePeriod)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        var connections = _connections.Keys.ToArray();
        foreach (var connection in connections) connection.BeginShutdown();
        try
        {
            await Task.WhenAll(connections.Select(c => c.CallsDrained)).WaitAsync(gracePeriod + TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _logger.LogWarning("Calls still running {Seconds} s after shutdown began; closing their connections.", (gracePeriod + TimeSpan.FromSeconds(2)).TotalSeconds);
        }
        foreach (var connection in connections) connection.Abort();
        await Task.WhenAll(_connections.Values.ToArray()).ConfigureAwait(false);
    }
}

using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace ParallelNet.Rpc.Internal.Http2;

/// <summary>
/// Our own HTTP/2 server (h2c with prior knowledge): a socket listener whose connections run every request stream as a
/// call through the dispatcher. Stopping refuses new connections and streams (GOAWAY), lets calls in flight finish
/// within the grace period, then closes what is left.
/// </summary>
internal sealed class Http2Server
{
    private readonly Socket _listener;
    private readonly Http2ServerSettings _settings;
    private readonly Func<IServerCallTransport, Task> _dispatch;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Http2ServerConnection, Task> _connections = new();
    private Task _acceptLoop = Task.CompletedTask;

    private Http2Server(Socket listener, Http2ServerSettings settings, Func<IServerCallTransport, Task> dispatch, ILogger logger)
    {
        _listener = listener;
        _settings = settings;
        _dispatch = dispatch;
        _logger = logger;
    }

    public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

    public static Http2Server Start(IPAddress address, int port, Http2ServerSettings settings, Func<IServerCallTransport, Task> dispatch, ILogger logger)
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
        var server = new Http2Server(listener, settings, dispatch, logger);
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
            var connection = new Http2ServerConnection(socket, _settings, _dispatch, _logger);
            _connections[connection] = RunConnectionAsync(connection);
        }
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

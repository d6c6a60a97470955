using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace ParallelNet.Rpc.Internal;

/// <summary>
/// One gRPC call on the server, whichever transport carries it: owns the call's cancellation
/// (client gone, deadline, server stopping) and the rule that exactly one status ends the call.
/// </summary>
internal sealed class ServerCall : IDisposable
{
    private readonly IServerCallTransport _transport;
    private readonly GrpcServerOptions _options;
    private readonly RequestDispatcher.MessageSizeLimits _limits;
    private readonly ILogger _logger;
    private readonly CancellationToken _serverStopping;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _deadlineSource = new();
    private readonly CancellationTokenSource _callSource;
    private bool _headersSent;
    private bool _completed;
    private Task? _deadlineCompletion;
    private CancellationTokenRegistration _deadlineRegistration;

    // A transport may fail a write to a reset stream before it fires ClientGone on the thread pool; the handler
    // must still see its token cancelled at that moment, so a failed write cancels the call itself.
    private readonly CancellationTokenSource _clientGone = new();

    public ServerCall(IServerCallTransport transport, GrpcServerOptions options, RequestDispatcher.MessageSizeLimits limits, ILogger logger, CancellationToken serverStopping)
    {
        _transport = transport;
        _options = options;
        _limits = limits;
        _logger = logger;
        _serverStopping = serverStopping;
        _callSource = CancellationTokenSource.CreateLinkedTokenSource(transport.ClientGone, _deadlineSource.Token, serverStopping, _clientGone.Token);
    }

    public async Task RunAsync(ServerMethodHandler handler, string methodPath)
    {
        var timeout = GrpcProtocol.ParseTimeout(_transport.GetRequestHeader(GrpcProtocol.TimeoutHeader));
        var deadline = DateTime.MaxValue;
        // Timers stop at int.MaxValue milliseconds (24.8 days); a longer timeout is as good as none.
        if (timeout is { } t && t.TotalMilliseconds < int.MaxValue)
        {
            deadline = DateTime.UtcNow + t;
            _deadlineRegistration = _deadlineSource.Token.Register(() => _deadlineCompletion = OnDeadlineAsync());
            _deadlineSource.CancelAfter(t);
        }
        var context = new ServerCallContext(this, methodPath, _transport.Authority, _transport.Peer, deadline,
            _transport.ReadRequestMetadata(), _callSource.Token);

        Status status;
        var trailers = context.ResponseTrailers;
        try
        {
            if (_options.Interceptor is { } interceptor) await interceptor(context).ConfigureAwait(false);
            await handler.HandleAsync(this, context).ConfigureAwait(false);
            status = context.Status;
        }
        catch (RpcException ex)
        {
            status = ex.Status;
            foreach (var entry in ex.Trailers) trailers.Add(entry);
        }
        catch (Exception ex) when (_deadlineSource.IsCancellationRequested)
        {
            _logger.LogDebug(ex, "Call {Method} ended after its deadline.", methodPath);
            status = new Status(StatusCode.DeadlineExceeded, "Deadline exceeded.");
        }
        catch (Exception ex) when (_transport.ClientGone.IsCancellationRequested || _clientGone.IsCancellationRequested)
        {
            _logger.LogDebug(ex, "Call {Method} was cancelled by the client.", methodPath);
            status = new Status(StatusCode.Cancelled, "The call was cancelled by the client.");
        }
        catch (Exception ex) when (_serverStopping.IsCancellationRequested)
        {
            _logger.LogDebug(ex, "Call {Method} was cut short by server shutdown.", methodPath);
            status = new Status(StatusCode.Unavailable, "The server is shutting down.");
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "The handler of {Method} threw an exception.", methodPath);
            status = new Status(StatusCode.Unknown, "Exception was thrown by handler.");
        }

        await CompleteAsync(status, trailers).ConfigureAwait(false);
        // Disposing the registration waits for a deadline callback already running, so the read below sees its task.
        _deadlineRegistration.Dispose();
        if (_deadlineCompletion is { } pending) await pending.ConfigureAwait(false);
    }

    public async Task<T> ReadSingleRequestAsync<T>(MessageParser<T> parser, LentReceiveBuffer? lent = null) where T : class, IMessage<T> =>
        await ReadRequestAsync(parser, default, lent).ConfigureAwait(false)
        ?? throw new RpcException(new Status(StatusCode.Internal, "The request ended without a message; this method takes exactly one."));

    public async Task<T?> ReadRequestAsync<T>(MessageParser<T> parser, CancellationToken cancellationToken, LentReceiveBuffer? lent = null) where T : class, IMessage<T>
    {
        using var linked = cancellationToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _callSource.Token) : null;
        return await _transport.ReadMessageAsync(parser, _limits.MaxReceive, linked?.Token ?? _callSource.Token, lent).ConfigureAwait(false);
    }

    public async Task WriteResponseHeadersAsync(Metadata headers)
    {
        await _writeLock.WaitAsync(_callSource.Token).ConfigureAwait(false);
        try
        {
            ThrowIfCompleted();
            if (_headersSent) throw new InvalidOperationException("Response headers were already sent; WriteResponseHeadersAsync may be called once, before the first message.");
            await SendHeadersAsync(headers).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async Task WriteMessageAsync(IMessage message, CancellationToken cancellationToken)
    {
        using var linked = cancellationToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _callSource.Token) : null;
        var token = linked?.Token ?? _callSource.Token;
        await _writeLock.WaitAsync(token).ConfigureAwait(false);
        try
        {
            ThrowIfCompleted();
            if (!_headersSent) await SendHeadersAsync(new Metadata()).ConfigureAwait(false);
            bool delivered;
            try
            {
                delivered = await _transport.WriteMessageAsync(message, _limits.MaxSend, token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not RpcException)
            {
                await _clientGone.CancelAsync().ConfigureAwait(false);
                throw new OperationCanceledException("The client's connection closed; the response could not be sent.", ex, _callSource.Token);
            }
            if (!delivered)
            {
                await _clientGone.CancelAsync().ConfigureAwait(false);
                throw new OperationCanceledException("The client's connection closed; the response could not be sent.", _callSource.Token);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private void ThrowIfCompleted()
    {
        if (_completed) throw new InvalidOperationException("The call is already complete (its deadline passed or its status was sent); no more messages can be written.");
    }

    private async Task SendHeadersAsync(Metadata headers)
    {
        _headersSent = true;
        await _transport.SendHeadersAsync(headers).ConfigureAwait(false);
    }

    /// <summary>At the deadline the caller gets DEADLINE_EXCEEDED at once, whether or not the handler noticed its token.</summary>
    private async Task OnDeadlineAsync()
    {
        // Let the token callbacks (including the handler's) run first; the lock below waits for any write in flight.
        await Task.Yield();
        await CompleteAsync(new Status(StatusCode.DeadlineExceeded, "Deadline exceeded."), new Metadata()).ConfigureAwait(false);
    }

    /// <summary>Sends the status once: as trailers after a started response, or as a Trailers-Only response.</summary>
    private async Task CompleteAsync(Status status, Metadata trailers)
    {
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_completed) return;
            _completed = true;
            await _transport.CompleteAsync(status, trailers, _headersSent).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
        {
            // The client is gone or the stream was reset; there is nobody left to tell.
            _logger.LogDebug(ex, "Could not send the final status {Status}.", status);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public void Dispose()
    {
        _callSource.Dispose();
        _clientGone.Dispose();
        _deadlineSource.Dispose();
        _writeLock.Dispose();
    }
}

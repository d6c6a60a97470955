using Google.Protobuf;

namespace ParallelNet.Rpc.Internal;

/// <summary>Runs one kind of handler against a call: reads the requests it takes, writes the responses it gives.</summary>
internal abstract class ServerMethodHandler
{
    public abstract Task HandleAsync(ServerCall call, ServerCallContext context);
}

internal sealed class UnaryMethodHandler<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse> handler) : ServerMethodHandler
    where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>
{
    public override async Task HandleAsync(ServerCall call, ServerCallContext context)
    {
        // A lent request stays valid until its response is sent (the response may carry the request's bytes).
        var lent = method.LendsReceivedBytes ? new LentReceiveBuffer() : null;
        try
        {
            var request = await call.ReadSingleRequestAsync(method.RequestParser, lent).ConfigureAwait(false);
            var response = await handler(request, context).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"The handler of {method.FullName} returned null instead of a response message.");
            await call.WriteMessageAsync(response, context.CancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lent?.Release();
        }
    }
}

internal sealed class ServerStreamingMethodHandler<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse> handler) : ServerMethodHandler
    where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>
{
    public override async Task HandleAsync(ServerCall call, ServerCallContext context)
    {
        var lent = method.LendsReceivedBytes ? new LentReceiveBuffer() : null;
        try
        {
            var request = await call.ReadSingleRequestAsync(method.RequestParser, lent).ConfigureAwait(false);
            await handler(request, new ServerResponseStream<TResponse>(call), context).ConfigureAwait(false);
        }
        finally
        {
            lent?.Release();
        }
    }
}

internal sealed class ClientStreamingMethodHandler<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse> handler) : ServerMethodHandler
    where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>
{
    public override async Task HandleAsync(ServerCall call, ServerCallContext context)
    {
        var response = await handler(new ServerRequestStream<TRequest>(call, method.RequestParser, method.LendsReceivedBytes), context).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"The handler of {method.FullName} returned null instead of a response message.");
        await call.WriteMessageAsync(response, context.CancellationToken).ConfigureAwait(false);
    }
}

internal sealed class DuplexStreamingMethodHandler<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse> handler) : ServerMethodHandler
    where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>
{
    public override Task HandleAsync(ServerCall call, ServerCallContext context) =>
        handler(new ServerRequestStream<TRequest>(call, method.RequestParser, method.LendsReceivedBytes), new ServerResponseStream<TResponse>(call), context);
}

/// <summary>The request stream a streaming handler reads.</summary>
internal sealed class ServerRequestStream<T>(ServerCall call, MessageParser<T> parser, bool lendsReceivedBytes) : IAsyncStreamReader<T>
    where T : class, IMessage<T>
{
    private readonly LentReceiveBuffer? _lent = lendsReceivedBytes ? new() : null;
    private T? _current;

    public T Current => _current ?? throw new InvalidOperationException("No current message: call MoveNext first and use Current only when it returned true.");

    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        _lent?.Release();
        _current = await call.ReadRequestAsync(parser, cancellationToken, _lent).ConfigureAwait(false);
        return _current is not null;
    }
}

/// <summary>The response stream a streaming handler writes.</summary>
internal sealed class ServerResponseStream<T>(ServerCall call) : IServerStreamWriter<T>
    where T : class, IMessage<T>
{
    public Task WriteAsync(T message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        return call.WriteMessageAsync(message, cancellationToken);
    }
}

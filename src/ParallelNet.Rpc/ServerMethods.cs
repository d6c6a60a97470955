using Google.Protobuf;

namespace ParallelNet.Rpc;

/// <summary>Handles a unary call: one request, one response.</summary>
public delegate Task<TResponse> UnaryServerMethod<in TRequest, TResponse>(TRequest request, ServerCallContext context)
    where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>;

/// <summary>Handles a server-streaming call: one request, any number of responses written to the stream.</summary>
public delegate Task ServerStreamingServerMethod<in TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context)
    where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>;

/// <summary>Handles a client-streaming call: reads the request stream, returns one response.</summary>
public delegate Task<TResponse> ClientStreamingServerMethod<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context)
    where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>;

/// <summary>Handles a bidirectional call: reads and writes streams independently.</summary>
public delegate Task DuplexStreamingServerMethod<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context)
    where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>;

using Google.Protobuf;

namespace ParallelNet.Rpc;

/// <summary>Describes one RPC method: its shape, its path (/service/name) and how its messages are parsed.</summary>
public sealed class Method<TRequest, TResponse>
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    public Method(MethodType type, string serviceName, string name, MessageParser<TRequest> requestParser, MessageParser<TResponse> responseParser)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(serviceName);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(requestParser);
        ArgumentNullException.ThrowIfNull(responseParser);
        if (serviceName.Contains('/') || name.Contains('/'))
            throw new ArgumentException($"Service and method names must not contain '/': got service '{serviceName}', method '{name}'. Pass the fully qualified service name (package.Service) and the bare method name.");
        Type = type;
        ServiceName = serviceName;
        Name = name;
        FullName = "/" + serviceName + "/" + name;
        RequestParser = requestParser;
        ResponseParser = responseParser;
    }

    public MethodType Type { get; }

    /// <summary>The fully qualified service name, e.g. <c>grpc.health.v1.Health</c>.</summary>
    public string ServiceName { get; }

    public string Name { get; }

    /// <summary>The HTTP/2 :path of the method: <c>/ServiceName/Name</c>.</summary>
    public string FullName { get; }

    public MessageParser<TRequest> RequestParser { get; }

    public MessageParser<TResponse> ResponseParser { get; }

    /// <summary>
    /// When true, the large bytes fields of a message read from a stream (MoveNext on either side) are views of a
    /// receive buffer that is reused as soon as the next MoveNext starts, and those of the request a unary or
    /// server-streaming handler takes are reused once the handler has finished: use or copy them before then. Readers
    /// that consume each message at once save a fresh LOH buffer (page faults, gen-2 GCs) per message.
    /// When false (the default) received bytes stay valid for as long as they are referenced.
    /// </summary>
    public bool LendsReceivedBytes { get; init; }
}

/// <summary>Creates method descriptors for generated protobuf messages without naming their parsers.</summary>
public static class Method
{
    public static Method<TRequest, TResponse> Create<TRequest, TResponse>(MethodType type, string serviceName, string name, bool lendsReceivedBytes = false)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
        => new(type, serviceName, name, new MessageParser<TRequest>(() => new TRequest()), new MessageParser<TResponse>(() => new TResponse()))
        {
            LendsReceivedBytes = lendsReceivedBytes,
        };
}

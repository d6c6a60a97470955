using Google.Protobuf;
using Google.Protobuf.Reflection;
using ParallelNet.Rpc.Internal;

namespace ParallelNet.Rpc;

/// <summary>
/// One service's methods bound to their handlers, ready to be hosted by <see cref="GrpcServer"/>.
/// Give the builder the service's protobuf descriptor so that server reflection can describe it.
/// </summary>
public sealed class ServerServiceDefinition
{
    private ServerServiceDefinition(string name, ServiceDescriptor? descriptor, IReadOnlyDictionary<string, ServerMethodHandler> handlers,
        int? maxReceiveMessageSize, int? maxSendMessageSize)
    {
        Name = name;
        Descriptor = descriptor;
        Handlers = handlers;
        MaxReceiveMessageSize = maxReceiveMessageSize;
        MaxSendMessageSize = maxSendMessageSize;
    }

    /// <summary>The fully qualified service name, e.g. parallelnet.v1.JobService.</summary>
    public string Name { get; }

    /// <summary>The protobuf descriptor, if known; reflection lists and describes only services that have one.</summary>
    public ServiceDescriptor? Descriptor { get; }

    internal IReadOnlyDictionary<string, ServerMethodHandler> Handlers { get; }

    /// <summary>The largest request message this service's methods accept; null: the server's GrpcServerOptions.MaxReceiveMessageSize.</summary>
    public int? MaxReceiveMessageSize { get; }

    /// <summary>The largest response message this service's methods send; null: the server's GrpcServerOptions.MaxSendMessageSize.</summary>
    public int? MaxSendMessageSize { get; }

    public static Builder CreateBuilder(ServiceDescriptor? descriptor = null) => new(descriptor);

    public sealed class Builder
    {
        private readonly ServiceDescriptor? _descriptor;
        private readonly Dictionary<string, ServerMethodHandler> _handlers = new(StringComparer.Ordinal);
        private string? _name;
        private int? _maxReceiveMessageSize;
        private int? _maxSendMessageSize;

        internal Builder(ServiceDescriptor? descriptor)
        {
            _descriptor = descriptor;
            _name = descriptor?.FullName;
        }

        public Builder AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse> handler)
            where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>
            => Add(method, MethodType.Unary, new UnaryMethodHandler<TRequest, TResponse>(method, handler ?? throw new ArgumentNullException(nameof(handler))));

        public Builder AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse> handler)
            where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>
            => Add(method, MethodType.ServerStreaming, new ServerStreamingMethodHandler<TRequest, TResponse>(method, handler ?? throw new ArgumentNullException(nameof(handler))));

        public Builder AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse> handler)
            where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>
            => Add(method, MethodType.ClientStreaming, new ClientStreamingMethodHandler<TRequest, TResponse>(method, handler ?? throw new ArgumentNullException(nameof(handler))));

        public Builder AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse> handler)
            where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>
            => Add(method, MethodType.DuplexStreaming, new DuplexStreamingMethodHandler<TRequest, TResponse>(method, handler ?? throw new ArgumentNullException(nameof(handler))));

        /// <summary>
        /// Lets this service's requests be larger (or forces them smaller) than the server-wide limit, e.g. tensors
        /// on a cluster stream next to a job API that keeps the 4 MiB default. Bigger requests get RESOURCE_EXHAUSTED.
        /// </summary>
        public Builder WithMaxReceiveMessageSize(int bytes)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
            _maxReceiveMessageSize = bytes;
            return this;
        }

        /// <summary>Limits the responses of this service's methods instead of the server-wide limit; bigger ones fail with RESOURCE_EXHAUSTED.</summary>
        public Builder WithMaxSendMessageSize(int bytes)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
            _maxSendMessageSize = bytes;
            return this;
        }

        public ServerServiceDefinition Build()
        {
            if (_name is null || _handlers.Count == 0)
                throw new InvalidOperationException("A service needs at least one method: call AddMethod before Build.");
            return new ServerServiceDefinition(_name, _descriptor, new Dictionary<string, ServerMethodHandler>(_handlers, StringComparer.Ordinal),
                _maxReceiveMessageSize, _maxSendMessageSize);
        }

        private Builder Add<TRequest, TResponse>(Method<TRequest, TResponse> method, MethodType handlerKind, ServerMethodHandler handler)
            where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>
        {
            ArgumentNullException.ThrowIfNull(method);
            if (method.Type != handlerKind)
                throw new ArgumentException($"Method {method.FullName} is {method.Type}, but the handler given is for a {handlerKind} method.", nameof(method));
            _name ??= method.ServiceName;
            if (method.ServiceName != _name)
                throw new ArgumentException($"Method {method.FullName} belongs to service '{method.ServiceName}', but this builder builds '{_name}'. Use one builder per service.", nameof(method));
            if (_descriptor is not null && _descriptor.FindMethodByName(method.Name) is null)
                throw new ArgumentException($"Service descriptor {_descriptor.FullName} has no method named '{method.Name}'.", nameof(method));
            if (!_handlers.TryAdd(method.FullName, handler))
                throw new ArgumentException($"Method {method.FullName} is already bound to a handler.", nameof(method));
            return this;
        }
    }
}

using System.Net;
using System.Net.Security;
using Google.Protobuf;
using ParallelNet.Rpc.Internal;
using ParallelNet.Rpc.Internal.Http2;

namespace ParallelNet.Rpc;

/// <summary>
/// A connection to one gRPC server (like grpc-dotnet's GrpcChannel): HTTP/2 over ParallelNet's own client (or
/// SocketsHttpHandler, see <see cref="GrpcClientOptions.Transport"/>), h2c for http:// addresses and TLS for https://.
/// Thread-safe; make one per server.
/// </summary>
public sealed class GrpcClient : IDisposable
{
    private readonly HttpMessageInvoker _invoker;

    public GrpcClient(Uri address, GrpcClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!address.IsAbsoluteUri || (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException($"gRPC address '{address}' must be absolute http:// (h2c) or https:// (TLS), e.g. http://127.0.0.1:5000.", nameof(address));
        Options = options ?? new GrpcClientOptions();
        Options.Validate();
        Address = address;
        _invoker = new HttpMessageInvoker(Options.Transport == GrpcClientTransport.Native ? CreateNativeHandler(Options) : CreateSocketsHandler(Options), disposeHandler: true);
    }

    private static Http2Handler CreateNativeHandler(GrpcClientOptions options) => new(new Http2ConnectionSettings(
        options.Http2StreamWindowSize,
        ConnectionWindowSize: Math.Max(2 * options.Http2StreamWindowSize, 64 * 1024 * 1024),
        options.ConnectTimeout,
        options.KeepAlivePingDelay,
        options.KeepAlivePingTimeout,
        options.ServerCertificateValidator));

    private static SocketsHttpHandler CreateSocketsHandler(GrpcClientOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            InitialHttp2StreamWindowSize = options.Http2StreamWindowSize,
            ConnectTimeout = options.ConnectTimeout,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            UseProxy = false,
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            KeepAlivePingDelay = options.KeepAlivePingDelay,
            KeepAlivePingTimeout = options.KeepAlivePingTimeout,
            ConnectCallback = BatchingSocketStream.ConnectAsync,
        };
        if (options.ServerCertificateValidator is { } validator)
            handler.SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, certificate, chain, errors) => validator(certificate, chain, errors) };
        return handler;
    }

    /// <summary>Parses "host:port" (h2c) or a full http:// / https:// address.</summary>
    public static GrpcClient ForAddress(string address, GrpcClientOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(address);
        var full = address.Contains("://", StringComparison.Ordinal) ? address : "http://" + address;
        if (!Uri.TryCreate(full, UriKind.Absolute, out var uri))
            throw new ArgumentException($"'{address}' is not a server address; use host:port or http(s)://host:port.", nameof(address));
        return new GrpcClient(uri, options);
    }

    public Uri Address { get; }

    public GrpcClientOptions Options { get; }

    internal HttpMessageInvoker Invoker => _invoker;

    public AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CallOptions options = default)
        where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>
    {
        var call = StartWithRequest(method, MethodType.Unary, request, options);
        return new AsyncUnaryCall<TResponse>(call, call.ReadSingleResponseAsync());
    }

    public AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, CallOptions options = default)
        where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>
        => new(StartWithRequest(method, MethodType.ServerStreaming, request, options));

    public AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, CallOptions options = default)
        where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>
    {
        var call = StartStreaming(method, MethodType.ClientStreaming, options);
        return new AsyncClientStreamingCall<TRequest, TResponse>(call, call.ReadSingleResponseAsync());
    }

    public AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, CallOptions options = default)
        where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>
        => new(StartStreaming(method, MethodType.DuplexStreaming, options));

    private ClientCall<TRequest, TResponse> StartWithRequest<TRequest, TResponse>(Method<TRequest, TResponse> method, MethodType expected, TRequest request, CallOptions options)
        where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>
    {
        CheckMethod(method, expected);
        ArgumentNullException.ThrowIfNull(request);
        var call = new ClientCall<TRequest, TResponse>(this, method, options);
        call.StartWithSingleRequest(request);
        return call;
    }

    private ClientCall<TRequest, TResponse> StartStreaming<TRequest, TResponse>(Method<TRequest, TResponse> method, MethodType expected, CallOptions options)
        where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>
    {
        CheckMethod(method, expected);
        var call = new ClientCall<TRequest, TResponse>(this, method, options);
        call.StartWithRequestStream();
        return call;
    }

    private static void CheckMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, MethodType expected)
        where TRequest : class, IMessage<TRequest> where TResponse : class, IMessage<TResponse>
    {
        ArgumentNullException.ThrowIfNull(method);
        if (method.Type != expected)
            throw new ArgumentException($"Method {method.FullName} is {method.Type}; call it with the matching Async{method.Type}Call, not as {expected}.", nameof(method));
    }

    public void Dispose() => _invoker.Dispose();
}

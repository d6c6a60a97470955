using System.Collections.Concurrent;
using Google.Protobuf;
using ParallelNet.Rpc.Tests.Protos;

namespace ParallelNet.Rpc.Tests;

/// <summary>The C# side of parallelnet.test.v1.TestService: method descriptors and a server implementation.</summary>
internal sealed class TestService
{
    public const string Name = "parallelnet.test.v1.TestService";

    public static readonly Method<EchoRequest, EchoResponse> Echo = Method.Create<EchoRequest, EchoResponse>(MethodType.Unary, Name, "Echo");
    public static readonly Method<EchoRequest, EchoResponse> ServerStream = Method.Create<EchoRequest, EchoResponse>(MethodType.ServerStreaming, Name, "ServerStream");
    public static readonly Method<EchoRequest, EchoResponse> ClientStream = Method.Create<EchoRequest, EchoResponse>(MethodType.ClientStreaming, Name, "ClientStream");
    public static readonly Method<EchoRequest, EchoResponse> Duplex = Method.Create<EchoRequest, EchoResponse>(MethodType.DuplexStreaming, Name, "Duplex");
    public static readonly Method<EchoRequest, EchoResponse> Sleep = Method.Create<EchoRequest, EchoResponse>(MethodType.Unary, Name, "Sleep");
    public static readonly Method<EchoRequest, EchoResponse> Fail = Method.Create<EchoRequest, EchoResponse>(MethodType.Unary, Name, "Fail");
    public static readonly Method<EchoRequest, EchoResponse> Throw = Method.Create<EchoRequest, EchoResponse>(MethodType.Unary, Name, "Throw");

    private readonly ConcurrentDictionary<string, TaskCompletionSource> _cancelled = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _started = new();

    /// <summary>Completes when a Sleep handler for a request with this text has started.</summary>
    public Task WhenStarted(string text) => _started.GetOrAdd(text, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Completes when a handler serving a request with this text saw its call cancelled.</summary>
    public Task WhenCancelled(string text) => Signal(text).Task;

    /// <summary>ServerStream's status_message that makes it throw (with secrets in the message) after its first response.</summary>
    public const string ThrowAfterFirstMessage = "throw-after-first";

    private TaskCompletionSource Signal(string text) => _cancelled.GetOrAdd(text, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <summary>The service's definition; <paramref name="configure"/> may set the service's own limits.</summary>
    public ServerServiceDefinition Definition(Func<ServerServiceDefinition.Builder, ServerServiceDefinition.Builder>? configure = null) =>
        (configure ?? (b => b))(ServerServiceDefinition.CreateBuilder(TestServiceReflection.Descriptor.Services[0]))
            .AddMethod(Echo, EchoAsync)
            .AddMethod(ServerStream, ServerStreamAsync)
            .AddMethod(ClientStream, ClientStreamAsync)
            .AddMethod(Duplex, DuplexAsync)
            .AddMethod(Sleep, SleepAsync)
            .AddMethod(Fail, (EchoRequest request, ServerCallContext _) => throw new RpcException(new Status((StatusCode)request.StatusCode, request.StatusMessage),
                new Metadata().Add("x-fail-bin", [0, 1, 2, 255])))
            .AddMethod(Throw, (EchoRequest _, ServerCallContext _) => throw new InvalidOperationException("secret internals: connection string Password=hunter2"))
            .Build();

    private static async Task<EchoResponse> EchoAsync(EchoRequest request, ServerCallContext context)
    {
        var echoed = new Metadata();
        if (context.RequestHeaders.GetValue("x-echo") is { } text) echoed.Add("x-echo", text);
        if (context.RequestHeaders.GetValueBytes("x-echo-bin") is { } bytes) echoed.Add("x-echo-bin", bytes);
        if (echoed.Count > 0)
        {
            await context.WriteResponseHeadersAsync(echoed);
            foreach (var entry in echoed) context.ResponseTrailers.Add(entry);
        }
        return new EchoResponse
        {
            Text = request.Text,
            Payload = request.ResponseSize > 0 ? ByteString.CopyFrom(new byte[request.ResponseSize]) : request.Payload,
            TotalBytes = request.Payload.Length,
        };
    }

    private async Task ServerStreamAsync(EchoRequest request, IServerStreamWriter<EchoResponse> stream, ServerCallContext context)
    {
        var payload = ByteString.CopyFrom(new byte[request.ResponseSize]);
        try
        {
            for (var i = 0; i < request.Count; i++)
            {
                await stream.WriteAsync(new EchoResponse { Text = request.Text, Index = i, Payload = payload });
                if (request.StatusMessage == ThrowAfterFirstMessage)
                    throw new InvalidOperationException("secret internals mid-stream: Password=hunter2");
                if (request.DelayMs > 0) await Task.Delay(request.DelayMs, context.CancellationToken);
            }
        }
        catch (Exception) when (context.CancellationToken.IsCancellationRequested)
        {
            Signal(request.Text).TrySetResult();
            throw;
        }
    }

    private static async Task<EchoResponse> ClientStreamAsync(IAsyncStreamReader<EchoRequest> requests, ServerCallContext context)
    {
        var texts = new List<string>();
        long bytes = 0;
        await foreach (var request in requests.ReadAllAsync(context.CancellationToken))
        {
            texts.Add(request.Text);
            bytes += request.Payload.Length;
        }
        return new EchoResponse { Text = string.Join(",", texts), Index = texts.Count, TotalBytes = bytes };
    }

    private async Task DuplexAsync(IAsyncStreamReader<EchoRequest> requests, IServerStreamWriter<EchoResponse> responses, ServerCallContext context)
    {
        var index = 0;
        string? firstText = null;
        try
        {
            await foreach (var request in requests.ReadAllAsync(context.CancellationToken))
            {
                firstText ??= request.Text;
                await responses.WriteAsync(new EchoResponse { Text = request.Text, Payload = request.Payload, Index = index++ });
            }
        }
        catch (Exception) when (context.CancellationToken.IsCancellationRequested && firstText is not null)
        {
            Signal(firstText).TrySetResult();
            throw;
        }
    }

    private async Task<EchoResponse> SleepAsync(EchoRequest request, ServerCallContext context)
    {
        _started.GetOrAdd(request.Text, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        try
        {
            await Task.Delay(request.DelayMs, context.CancellationToken);
        }
        catch (OperationCanceledException)
        {
            Signal(request.Text).TrySetResult();
            throw;
        }
        return new EchoResponse { Text = request.Text };
    }
}

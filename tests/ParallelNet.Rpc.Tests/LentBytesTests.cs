using System.Runtime.InteropServices;
using Google.Protobuf;
using ParallelNet.Rpc.Internal;
using ParallelNet.Rpc.Tests.Protos;

namespace ParallelNet.Rpc.Tests;

/// <summary>
/// Methods that lend their received bytes: each message read from a stream borrows its large payload from a receive
/// buffer that the next read reuses. Every payload must still read right at its turn, on both sides.
/// </summary>
public sealed class LentBytesTests
{
    private const int PayloadSize = 2 * MessageBufferPool.LargeBufferThreshold;
    private const int Messages = 6;
    private const int AnswerSize = 100 * 1024;

    private static readonly Method<EchoRequest, EchoResponse> LendingDuplex = Method.Create<EchoRequest, EchoResponse>(
        MethodType.DuplexStreaming, "parallelnet.test.v1.LendingService", "Duplex", lendsReceivedBytes: true);

    private static readonly Method<EchoRequest, EchoResponse> LendingUnary = Method.Create<EchoRequest, EchoResponse>(
        MethodType.Unary, "parallelnet.test.v1.LendingService", "Echo", lendsReceivedBytes: true);

    private static ByteString Filled(int index) => UnsafeByteOperations.UnsafeWrap(Enumerable.Repeat((byte)(index + 1), PayloadSize).ToArray());

    private static bool IsFilled(ByteString payload, int index) => payload.Length == PayloadSize && !payload.Span.ContainsAnyExcept((byte)(index + 1));

    private static byte[] ArrayOf(ByteString payload) =>
        MemoryMarshal.TryGetArray(payload.Memory, out var segment) ? segment.Array! : throw new InvalidOperationException("The payload is not array-backed.");

    [Theory]
    [InlineData(GrpcServerTransport.Kestrel)]
    [InlineData(GrpcServerTransport.Http2)]
    public async Task Each_lent_payload_reads_right_and_the_receive_buffer_is_reused(GrpcServerTransport transport)
    {
        var serverArrays = new List<byte[]>();
        var definition = ServerServiceDefinition.CreateBuilder()
            .AddMethod(LendingDuplex, async (IAsyncStreamReader<EchoRequest> requests, IServerStreamWriter<EchoResponse> responses, ServerCallContext context) =>
            {
                while (await requests.MoveNext(context.CancellationToken))
                {
                    var request = requests.Current;
                    serverArrays.Add(ArrayOf(request.Payload));
                    // Answers with its own payload of the next fill, and whether the lent one read right.
                    await responses.WriteAsync(new EchoResponse { Index = request.Count, Text = IsFilled(request.Payload, request.Count) ? "ok" : "corrupt", Payload = Filled(request.Count + 1) });
                }
            })
            .Build();
        var options = new GrpcServerOptions { MaxReceiveMessageSize = ServerFixture.LargeLimit, Transport = transport };
        options.Services.Add(definition);
        await using var server = await GrpcServer.StartAsync(options);
        using var client = new GrpcClient(server.LoopbackAddress, new GrpcClientOptions { MaxReceiveMessageSize = ServerFixture.LargeLimit });

        using var call = client.AsyncDuplexStreamingCall(LendingDuplex, CallOptions.WithTimeout(Waits.Long));
        var clientArrays = new List<byte[]>();
        for (var i = 0; i < Messages; i++)
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Count = i, Payload = Filled(i) });
            Assert.True(await call.ResponseStream.MoveNext(default));
            var response = call.ResponseStream.Current;
            Assert.Equal((i, "ok"), (response.Index, response.Text));
            Assert.True(IsFilled(response.Payload, i + 1), $"response {i} does not hold its own payload");
            clientArrays.Add(ArrayOf(response.Payload));
        }
        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext(default));

        // Another test's stream may take a buffer from the shared pool in between, so reuse is asked of most reads, not all.
        Assert.InRange(clientArrays.Distinct().Count(), 1, Messages / 2);
        Assert.InRange(serverArrays.Distinct().Count(), 1, Messages / 2);
    }

    [Theory]
    [InlineData(GrpcServerTransport.Kestrel)]
    [InlineData(GrpcServerTransport.Http2)]
    public async Task A_lent_unary_request_reads_right_until_its_answer_is_sent_and_its_buffer_serves_the_next(GrpcServerTransport transport)
    {
        var serverArrays = new List<byte[]>();
        var definition = ServerServiceDefinition.CreateBuilder()
            .AddMethod(LendingUnary, (EchoRequest request, ServerCallContext _) =>
            {
                serverArrays.Add(ArrayOf(request.Payload));
                // The answer carries some of the lent bytes themselves: they are serialized before the buffer is reused.
                // (Kept under the large-buffer size, so that the client in this same process does not take the buffer.)
                return Task.FromResult(new EchoResponse { Index = request.Count, Payload = UnsafeByteOperations.UnsafeWrap(request.Payload.Memory[..AnswerSize]) });
            })
            .Build();
        var options = new GrpcServerOptions { MaxReceiveMessageSize = ServerFixture.LargeLimit, Transport = transport };
        options.Services.Add(definition);
        await using var server = await GrpcServer.StartAsync(options);
        using var client = new GrpcClient(server.LoopbackAddress, new GrpcClientOptions { MaxReceiveMessageSize = ServerFixture.LargeLimit });

        for (var i = 0; i < Messages; i++)
        {
            var response = await client.AsyncUnaryCall(LendingUnary, new EchoRequest { Count = i, Payload = Filled(i) }, CallOptions.WithTimeout(Waits.Long));
            Assert.Equal(i, response.Index);
            Assert.True(response.Payload.Length == AnswerSize && !response.Payload.Span.ContainsAnyExcept((byte)(i + 1)), $"answer {i} does not carry its request's payload");
        }

        Assert.InRange(serverArrays.Distinct().Count(), 1, Messages / 2);
    }
}

using System.Net.Sockets;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using ParallelNet.Actors;
using ParallelNet.Cluster.Tests.Support;
using ParallelNet.Rpc;

namespace ParallelNet.Cluster.Tests;

public sealed class AdmissionTests
{
    [Fact]
    public async Task A_node_with_a_wrong_cluster_token_is_refused_with_a_log_line_on_both_sides()
    {
        var logsA = new LogCollector();
        var logsB = new LogCollector();
        await using ClusterNode a = await ClusterNode.StartAsync(Nodes.Options("token-a", logsA));
        ClusterNodeOptions intruder = Nodes.Options("token-b", logsB, seeds: Nodes.SeedOf(a));
        intruder.ClusterToken = "another-token";
        await using ClusterNode b = await ClusterNode.StartAsync(intruder);

        await Nodes.WaitUntilAsync(() => logsB.Contains("refused this node"), "the refused node logs the refusal");
        Assert.True(logsA.Contains("cluster token differs"), "the refusing node logs why");
        Assert.DoesNotContain(logsA.Lines, l => l.Text.Contains("another-token", StringComparison.Ordinal)); // tokens never reach the log
        Assert.Empty(a.Members);
        Assert.Empty(b.Members);
    }

    [Fact]
    public async Task A_node_speaking_another_protocol_version_is_refused_with_a_log_line_on_both_sides()
    {
        var logsA = new LogCollector();
        var logsB = new LogCollector();
        await using ClusterNode a = await ClusterNode.StartAsync(Nodes.Options("version-a", logsA));
        ClusterNodeOptions newer = Nodes.Options("version-b", logsB, seeds: Nodes.SeedOf(a));
        newer.ProtocolVersion = ClusterNode.ProtocolVersion + 1;
        await using ClusterNode b = await ClusterNode.StartAsync(newer);

        await Nodes.WaitUntilAsync(() => logsB.Contains("refused this node"), "the refused node logs the refusal");
        Assert.True(logsA.Contains($"protocol version {ClusterNode.ProtocolVersion + 1}"), "the refusing node names the version");
        Assert.Empty(a.Members);
    }

    [Fact]
    public async Task Garbage_on_the_cluster_port_never_crashes_the_node()
    {
        var logs = new LogCollector();
        await using ClusterNode a = await ClusterNode.StartAsync(Nodes.Options("garbage-a", logs));
        var random = new Random(42);

        // Raw bytes, and bytes after a valid HTTP/2 preface.
        foreach (byte[] prefix in new[] { Array.Empty<byte>(), "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray() })
        {
            using var socket = new TcpClient();
            await socket.ConnectAsync("127.0.0.1", a.Port);
            var junk = new byte[64 * 1024];
            random.NextBytes(junk);
            NetworkStream stream = socket.GetStream();
            try
            {
                await stream.WriteAsync(prefix);
                await stream.WriteAsync(junk);
            }
            catch (IOException)
            {
                // The server may hang up before all the junk is written; that is the point.
            }
        }

        // Well-framed gRPC whose messages are not cluster frames, and a cluster frame that is not a Hello.
        using (var client = new GrpcClient(new Uri($"http://127.0.0.1:{a.Port}")))
        {
            var raw = new Method<BytesValue, BytesValue>(MethodType.DuplexStreaming, "parallelnet.cluster.v1.Cluster", "Connect", BytesValue.Parser, BytesValue.Parser);
            var bytes = new byte[1000];
            random.NextBytes(bytes);
            bytes[0] = 0x0A; // field 1 (hello), length-delimited, followed by junk
            using var call = client.AsyncDuplexStreamingCall(raw);
            await call.RequestStream.WriteAsync(new BytesValue { Value = ByteString.CopyFrom(bytes) });
            await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));

            var frames = new Method<Protocol.ClusterFrame, Protocol.ClusterFrame>(MethodType.DuplexStreaming, "parallelnet.cluster.v1.Cluster", "Connect",
                Protocol.ClusterFrame.Parser, Protocol.ClusterFrame.Parser);
            using var early = client.AsyncDuplexStreamingCall(frames);
            await early.RequestStream.WriteAsync(new Protocol.ClusterFrame { Continuation = new Protocol.MessageContinuation() });
            var refused = await Assert.ThrowsAsync<RpcException>(() => early.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        }
        Assert.True(logs.Contains("instead of Hello"));

        // Still serving: a real node joins and a message goes through.
        await using ClusterNode b = await ClusterNode.StartAsync(Nodes.Options("garbage-b", seeds: Nodes.SeedOf(a)));
        await Nodes.WaitForMembersAsync(a, 1);
        var (_, received) = Inbox.Create(a.System, "inbox");
        b.ActorRefFor(a.SelfAddress, "/user/inbox").Tell("still here");
        Assert.Equal("still here", (await received.NextAsync()).Message);
    }

    [Fact]
    public async Task Messages_for_a_peer_that_never_answers_are_bounded_and_dropped_with_a_log_line()
    {
        var logs = new LogCollector();
        ClusterNodeOptions options = Nodes.Options("bounded", logs);
        options.MaxQueuedMessagesPerPeer = 10;
        await using ClusterNode a = await ClusterNode.StartAsync(options);
        int deadPort;
        using (var listener = new TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            listener.Start();
            deadPort = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        }

        IActorRef nowhere = a.ActorRefFor(new Address("pn.tcp", "ghost", "127.0.0.1", deadPort), "/user/inbox");
        for (int i = 0; i < 100; i++) nowhere.Tell(new Numbered(i));
        Assert.True(logs.Contains("send queue is full"), "the drop is logged");
    }
}

using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using ParallelNet.Rpc.Internal;
using ParallelNet.Rpc.Internal.Http2;

namespace ParallelNet.Rpc.Tests;

/// <summary>One request stream of the own server, driven the way its connection's read loop drives it.</summary>
public sealed class Http2ServerStreamTests
{
    [Fact]
    public async Task Request_bytes_that_arrive_after_the_call_finished_give_their_connection_window_back()
    {
        // A window of 400,000 bytes: WINDOW_UPDATE goes out for every 100,000 bytes given back.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await peer.ConnectAsync(listener.LocalEndPoint!);
        using var accepted = await listener.AcceptAsync();
        var settings = new Http2ServerSettings(400_000, 400_000, Timeout.InfiniteTimeSpan, TimeSpan.FromSeconds(20),
            new LargeBlockMemoryPool(LargeBlockMemoryPool.DefaultBlockSize, 4));
        var connection = new Http2ServerConnection(accepted, new NetworkStream(accepted, ownsSocket: false), settings, _ => Task.CompletedTask,
            NullLogger.Instance);
        var stream = new Http2ServerStream(connection, 1, [(":method", "POST"), (":path", "/x")], 65_535, 400_000, settings.BodyPool);

        Deliver(stream, 30_000);
        Assert.Equal(30_000, stream.OnCallFinished()); // never read: the connection gives these back itself
        Deliver(stream, 150_000); // the rest of a DATA frame the read loop was in when the call ended

        var frame = new byte[9 + 4];
        await peer.ReceiveAsync(frame.AsMemory(0, 9)).AsTask().WaitAsync(Waits.Long);
        await peer.ReceiveAsync(frame.AsMemory(9, 4)).AsTask().WaitAsync(Waits.Long);
        Assert.Equal((0x8, 0), (frame[3], BinaryPrimitives.ReadInt32BigEndian(frame.AsSpan(5)))); // WINDOW_UPDATE on the connection
        // Given back as the read loop commits them (in pipe-block pieces), each time 100,000 bytes or more have gathered.
        Assert.InRange(BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(9)), 100_000u, 150_000u);
        connection.Abort();
    }

    private static void Deliver(Http2ServerStream stream, int count)
    {
        for (var left = count; left > 0;)
        {
            var memory = stream.GetBodyMemory();
            var take = Math.Min(memory.Length, left);
            stream.CommitBody(take);
            left -= take;
        }
        stream.PublishBody();
    }
}

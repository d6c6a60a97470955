using System.Buffers.Binary;
using Google.Protobuf;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using ParallelNet.Rpc.Internal;
using ParallelNet.Rpc.Internal.Http2;
using ParallelNet.Rpc.Tests.Protos;

namespace ParallelNet.Rpc.Tests;

/// <summary>One request stream of the own server, driven the way its connection's read loop drives it.</summary>
public sealed class Http2ServerStreamTests
{
    /// <summary>A server connection over a loopback socket pair (its read loop not running) and its peer's socket.</summary>
    private sealed class Harness : IDisposable
    {
        private readonly Socket _accepted;

        public Harness(int windowSize)
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(1);
            Peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            Peer.Connect(listener.LocalEndPoint!);
            _accepted = listener.Accept();
            Settings = new Http2ServerSettings(windowSize, windowSize, Timeout.InfiniteTimeSpan, TimeSpan.FromSeconds(20),
                new LargeBlockMemoryPool(LargeBlockMemoryPool.DefaultBlockSize, 4));
            Connection = new Http2ServerConnection(_accepted, new NetworkStream(_accepted, ownsSocket: false), Settings, _ => Task.CompletedTask, NullLogger.Instance);
        }

        public Socket Peer { get; }

        public Http2ServerSettings Settings { get; }

        public Http2ServerConnection Connection { get; }

        public Http2ServerStream NewStream() => new(Connection, 1, [(":method", "POST"), (":path", "/x")], 65_535, Settings.StreamWindowSize, Settings.BodyPool);

        public void Dispose()
        {
            Connection.Abort();
            _accepted.Dispose();
            Peer.Dispose();
        }
    }

    [Fact]
    public async Task A_large_message_is_read_straight_into_its_buffer_after_the_bytes_already_in_the_pipe()
    {
        using var harness = new Harness(1 << 20);
        var stream = harness.NewStream();
        var message = new EchoRequest { Text = "direct", Payload = ByteString.CopyFrom(Enumerable.Range(0, 100_000).Select(i => (byte)(i * 7)).ToArray()) };
        var framed = RawGrpc.Frame(message);
        Deliver(stream, framed.AsSpan(0, 1000)); // the prefix and the first bytes came before the call read

        var reading = stream.ReadMessageAsync(EchoRequest.Parser, 1 << 20, default, null).AsTask();
        var position = 1000;
        while (position < framed.Length)
        {
            var target = stream.ClaimDirectTarget(7_000);
            if (target.IsEmpty)
            {
                // The call has not started waiting yet (it runs on the thread pool).
                await Task.Yield();
                continue;
            }
            framed.AsSpan(position, target.Length).CopyTo(target.Span);
            stream.CommitDirect(target.Length);
            position += target.Length;
        }

        Assert.Equal(message, await reading.WaitAsync(Waits.Long));
    }

    [Fact]
    public async Task Bytes_in_the_pipe_come_before_a_direct_read()
    {
        using var harness = new Harness(1 << 20);
        var stream = harness.NewStream();
        Deliver(stream, new byte[10]);

        Assert.Equal(0, await stream.FillAsync(new byte[1000], default));
        Assert.True(stream.ClaimDirectTarget(100).IsEmpty);
    }

    [Fact]
    public async Task Bytes_that_take_the_pipe_or_the_end_of_the_body_end_a_waiting_read_with_what_it_has()
    {
        using var harness = new Harness(1 << 20);
        var stream = harness.NewStream();
        var waiting = stream.FillAsync(new byte[1000], default);
        stream.ClaimDirectTarget(300);
        stream.CommitDirect(300);

        Deliver(stream, 50); // the read loop began these before the read waited

        Assert.Equal(300, await waiting);
        var ended = harness.NewStream();
        var waitingForEnd = ended.FillAsync(new byte[1000], default);
        ended.EndOfBody();
        Assert.Equal(0, await waitingForEnd);
        Assert.Equal(0, await ended.FillAsync(new byte[1000], default));
    }

    [Fact]
    public async Task A_cancelled_read_ends_at_once_even_while_the_connection_is_reading_into_it()
    {
        using var harness = new Harness(1 << 20);
        var stream = harness.NewStream();
        using var cancel = new CancellationTokenSource();
        var waiting = stream.FillAsync(new byte[1000], cancel.Token);
        var claimed = stream.ClaimDirectTarget(1000);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await waiting);
        stream.CommitDirect(claimed.Length); // the socket read finishes into the abandoned buffer; nothing breaks
        Assert.True(stream.ClaimDirectTarget(100).IsEmpty);
    }

    [Fact]
    public async Task Request_bytes_that_arrive_after_the_call_finished_give_their_connection_window_back()
    {
        // A window of 400,000 bytes: WINDOW_UPDATE goes out for every 100,000 bytes given back.
        using var harness = new Harness(400_000);
        var peer = harness.Peer;
        var connection = harness.Connection;
        var stream = harness.NewStream();

        Deliver(stream, 30_000);
        Assert.Equal(30_000, stream.OnCallFinished()); // never read: the connection gives these back itself
        Deliver(stream, 150_000); // the rest of a DATA frame the read loop was in when the call ended

        var frame = new byte[9 + 4];
        await peer.ReceiveAsync(frame.AsMemory(0, 9)).AsTask().WaitAsync(Waits.Long);
        await peer.ReceiveAsync(frame.AsMemory(9, 4)).AsTask().WaitAsync(Waits.Long);
        Assert.Equal((0x8, 0), (frame[3], BinaryPrimitives.ReadInt32BigEndian(frame.AsSpan(5)))); // WINDOW_UPDATE on the connection
        // Given back as the read loop commits them (in pipe-block pieces), each time 100,000 bytes or more have gathered.
        Assert.InRange(BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(9)), 100_000u, 150_000u);
    }

    private static void Deliver(Http2ServerStream stream, int count) => Deliver(stream, new byte[count]);

    /// <summary>What the read loop does with DATA bytes when no read waits for them: into the request pipe.</summary>
    private static void Deliver(Http2ServerStream stream, ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            var memory = stream.GetBodyMemory();
            var take = Math.Min(memory.Length, bytes.Length);
            bytes[..take].CopyTo(memory.Span);
            stream.CommitBody(take);
            bytes = bytes[take..];
        }
        stream.PublishBody();
    }
}

using System.Net;
using System.Net.Sockets;
using ParallelNet.Rpc.Internal;

namespace ParallelNet.Rpc.Tests;

/// <summary>The client's batching connection stream: every byte arrives once and in order both ways, and a dead peer fails the writer.</summary>
public sealed class BatchingSocketStreamTests
{
    [Theory]
    [InlineData(1, 20)]
    [InlineData(2, 16_393)]
    [InlineData(3, 700_000)]
    public async Task Bytes_arrive_in_order_whatever_the_write_sizes(int seed, int maxWrite)
    {
        using var listener = Listen();
        var random = new Random(seed);
        var sent = new byte[12 * 1024 * 1024 + 17];
        random.NextBytes(sent);

        await using var stream = await BatchingSocketStream.ConnectAsync(listener.LocalEndPoint!, default);
        using var peer = await listener.AcceptAsync();
        var receiving = Task.Run(async () =>
        {
            var received = new byte[sent.Length];
            for (var at = 0; at < received.Length;)
            {
                var read = await peer.ReceiveAsync(received.AsMemory(at), SocketFlags.None);
                if (read == 0) break;
                at += read;
            }
            return received;
        });
        for (var offset = 0; offset < sent.Length;)
        {
            var size = Math.Min(sent.Length - offset, random.Next(1, maxWrite + 1));
            await stream.WriteAsync(sent.AsMemory(offset, size));
            offset += size;
        }

        var received = await receiving.WaitAsync(Waits.Long);
        Assert.True(sent.SequenceEqual(received));
    }

    [Theory]
    [InlineData(4, 9)]
    [InlineData(5, 16_393)]
    [InlineData(6, 600_000)]
    public async Task Reads_of_any_size_see_every_byte_once_in_order(int seed, int maxRead)
    {
        using var listener = Listen();
        var random = new Random(seed);
        var sent = new byte[6 * 1024 * 1024 + 5];
        random.NextBytes(sent);
        await using var stream = await BatchingSocketStream.ConnectAsync(listener.LocalEndPoint!, default);
        using var peer = await listener.AcceptAsync();
        var sending = Task.Run(async () =>
        {
            var chunks = new Random(seed + 1);
            for (var offset = 0; offset < sent.Length;)
            {
                var size = Math.Min(sent.Length - offset, chunks.Next(1, 100_000));
                offset += await peer.SendAsync(sent.AsMemory(offset, size), SocketFlags.None);
            }
            peer.Shutdown(SocketShutdown.Send);
        });

        var received = new byte[sent.Length + 1];
        var at = 0;
        while (true)
        {
            // Zero-byte reads, as SocketsHttpHandler makes while idle, return without taking anything.
            if (random.Next(8) == 0) Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty));
            var size = Math.Min(received.Length - at, random.Next(1, maxRead + 1));
            var read = random.Next(2) == 0 ? await stream.ReadAsync(received.AsMemory(at, size)) : stream.Read(received.AsSpan(at, size));
            if (read == 0) break;
            at += read;
        }
        await sending.WaitAsync(Waits.Long);

        Assert.Equal(sent.Length, at);
        Assert.True(sent.AsSpan().SequenceEqual(received.AsSpan(0, at)));
    }

    [Fact]
    public async Task Writes_fail_once_the_peer_is_gone()
    {
        using var listener = Listen();
        await using var stream = await BatchingSocketStream.ConnectAsync(listener.LocalEndPoint!, default);
        using (var peer = await listener.AcceptAsync())
        {
            peer.LingerState = new LingerOption(true, 0);
        }

        // The reset reaches the sender after a send or two; from then on every write fails.
        var chunk = new byte[64 * 1024];
        var failed = await Assert.ThrowsAsync<IOException>(async () =>
        {
            for (var i = 0; i < 100_000; i++) await stream.WriteAsync(chunk);
        });
        Assert.NotNull(failed.InnerException);
    }

    private static Socket Listen()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        return listener;
    }
}

using System.Net;
using System.Net.Sockets;
using ParallelNet.Rpc.Internal;

namespace ParallelNet.Rpc.Tests;

/// <summary>The client's write-behind connection stream: every byte arrives once and in order, and a dead peer fails the writer.</summary>
public sealed class WriteBehindSocketStreamTests
{
    [Theory]
    [InlineData(1, 20)]
    [InlineData(2, 16_393)]
    [InlineData(3, 700_000)]
    public async Task Bytes_arrive_in_order_whatever_the_write_sizes(int seed, int maxWrite)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var random = new Random(seed);
        var sent = new byte[12 * 1024 * 1024 + 17];
        random.NextBytes(sent);

        await using var stream = await WriteBehindSocketStream.ConnectAsync(listener.LocalEndPoint!, default);
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

    [Fact]
    public async Task Reads_see_what_the_peer_sends()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        await using var stream = await WriteBehindSocketStream.ConnectAsync(listener.LocalEndPoint!, default);
        using var peer = await listener.AcceptAsync();

        await peer.SendAsync(new byte[] { 1, 2, 3 }, SocketFlags.None);
        var buffer = new byte[3];
        await stream.ReadExactlyAsync(buffer).AsTask().WaitAsync(Waits.Long);

        Assert.Equal(new byte[] { 1, 2, 3 }, buffer);
    }

    [Fact]
    public async Task Writes_fail_once_the_peer_is_gone()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        await using var stream = await WriteBehindSocketStream.ConnectAsync(listener.LocalEndPoint!, default);
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
}

using ParallelNet.Actors;
using ParallelNet.Cluster.Internal;
using ParallelNet.Cluster.Tests.Support;

namespace ParallelNet.Cluster.Tests;

/// <summary>
/// Large tensors are lent, not reallocated: a sender learns when the bytes of its tensor are on the wire, and a
/// receiver decodes into arrays its recipients hand back with a local-only release message.
/// </summary>
public sealed class TensorLendingTests
{
    private const int Length = ReceiveBufferPool.MinPooledLength + 3;

    private sealed record Tensor(float[] Values);

    private sealed record TensorSent(float[] Values);

    private sealed record TensorReleased(float[] Values);

    private static void Register(ClusterNodeOptions options) => options.Serializers
        .Register<Tensor>("test.Tensor", (w, t) => w.WriteFloats(t.Values), r => new Tensor(r.ReadPooledFloats()),
            (t, sender) => sender.Tell(new TensorSent(t.Values), ActorRefs.NoSender))
        .RegisterLocalOnly<TensorReleased>(m => m.Values);

    [Fact]
    public void The_pool_reuses_large_arrays_once_each_and_leaves_small_ones_to_the_collector()
    {
        var pool = new ReceiveBufferPool();
        float[] large = pool.Rent(Length);
        pool.Return(large);
        pool.Return(large); // a second hand-back of the same array must not let two readers share it
        pool.Return(new float[ReceiveBufferPool.MinPooledLength - 1]);
        Assert.Equal(1, pool.FreeCount);
        Assert.Same(large, pool.Rent(Length));
        Assert.NotSame(large, pool.Rent(Length));
        Assert.Equal(0, pool.FreeCount);
    }

    [Fact]
    public void A_pooled_read_decodes_the_same_values_into_a_reused_array()
    {
        var pool = new ReceiveBufferPool();
        float[] reused = pool.Rent(Length);
        Array.Fill(reused, float.NaN);
        pool.Return(reused);
        float[] sent = [.. Enumerable.Range(0, Length).Select(i => i * 0.25f - 7f)];
        var writer = new PayloadWriter(new NoReferences());
        writer.WriteFloats(sent);
        byte[] payload = [.. writer.Finish().SelectMany(s => s.ToArray())];

        float[] read = new PayloadReader(new NoReferences(), payload, pool).ReadPooledFloats();

        Assert.Same(reused, read);
        Assert.Equal(sent, read);
        Assert.Throws<FormatException>(() => new PayloadReader(new NoReferences(), payload.AsMemory(0, payload.Length - 1), pool).ReadPooledFloats());
    }

    [Fact]
    public async Task The_sender_gets_its_tensor_back_once_written_and_the_receiver_reuses_what_its_recipient_releases()
    {
        ClusterNode[] nodes = await Nodes.StartClusterAsync(2, "lending", configure: Register);
        try
        {
            var (lender, lenderReceived) = Inbox.Create(nodes[0].System, "lender");
            var (_, borrowerReceived) = Inbox.Create(nodes[1].System, "borrower");
            IActorRef borrower = nodes[0].ActorRefFor(nodes[1].SelfAddress, "/user/borrower");
            float[] first = [.. Enumerable.Range(0, Length).Select(i => (float)i)];

            borrower.Tell(new Tensor(first), lender);
            var (message, sender) = await borrowerReceived.NextAsync();
            float[] received = Assert.IsType<Tensor>(message).Values;
            Assert.Equal(first, received);
            Assert.Same(first, Assert.IsType<TensorSent>((await lenderReceived.NextAsync()).Message).Values);

            // The release goes to the remote lender: it never crosses the wire, the receiving node keeps the array.
            sender.Tell(new TensorReleased(received), ActorRefs.NoSender);
            Assert.Equal(1, nodes[1].PooledReceiveBuffers);

            float[] second = [.. Enumerable.Range(0, Length).Select(i => -i * 0.5f)];
            borrower.Tell(new Tensor(second), lender);
            float[] again = Assert.IsType<Tensor>((await borrowerReceived.NextAsync()).Message).Values;
            Assert.Same(received, again);
            Assert.Equal(second, again);
        }
        finally
        {
            await Nodes.DisposeAllAsync(nodes);
        }
    }

    [Fact]
    public async Task A_tensor_dropped_as_oversized_is_still_handed_back()
    {
        // Over MaxMessageSize: the message is dropped before it is queued, and the sender must not wait forever for its buffer.
        ClusterNode[] nodes = await Nodes.StartClusterAsync(2, "lending-drop", configure: options =>
        {
            options.MaxMessageSize = 1024;
            Register(options);
        });
        try
        {
            var (lender, lenderReceived) = Inbox.Create(nodes[0].System, "lender");
            IActorRef borrower = nodes[0].ActorRefFor(nodes[1].SelfAddress, "/user/borrower");
            float[] tensor = new float[Length];
            borrower.Tell(new Tensor(tensor), lender);
            Assert.Same(tensor, Assert.IsType<TensorSent>((await lenderReceived.NextAsync()).Message).Values);
        }
        finally
        {
            await Nodes.DisposeAllAsync(nodes);
        }
    }
}

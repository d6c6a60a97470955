using ParallelNet.Rpc.Internal;

namespace ParallelNet.Rpc.Tests;

public sealed class MessageBufferPoolTests
{
    [Fact]
    public void A_returned_large_buffer_is_reused_for_the_next_message_that_fits()
    {
        var pool = new MessageBufferPool(maxRetainedBuffers: 2, maxRetainedBytes: 64L * 1024 * 1024);
        var first = pool.Rent(3 * 1024 * 1024 + 5);
        Assert.Equal(4 * 1024 * 1024, first.Length);
        pool.Return(first);
        Assert.Same(first, pool.Rent(3 * 1024 * 1024));
        Assert.NotSame(first, pool.Rent(3 * 1024 * 1024));
    }

    [Fact]
    public void The_smallest_buffer_that_fits_is_chosen()
    {
        var pool = new MessageBufferPool(maxRetainedBuffers: 4, maxRetainedBytes: 64L * 1024 * 1024);
        var big = pool.Rent(8 * 1024 * 1024);
        var small = pool.Rent(2 * 1024 * 1024);
        pool.Return(big);
        pool.Return(small);
        Assert.Same(small, pool.Rent(2 * 1024 * 1024));
        Assert.Same(big, pool.Rent(2 * 1024 * 1024));
    }

    [Fact]
    public void Retention_stops_at_the_buffer_count_and_the_byte_budget()
    {
        var pool = new MessageBufferPool(maxRetainedBuffers: 2, maxRetainedBytes: 5L * 1024 * 1024);
        var buffers = Enumerable.Range(0, 3).Select(_ => pool.Rent(2 * 1024 * 1024)).ToList();
        foreach (var buffer in buffers) pool.Return(buffer);
        Assert.Equal(4L * 1024 * 1024, pool.RetainedBytes);
        pool.Return(pool.Rent(4 * 1024 * 1024 + 1));
        Assert.Equal(4L * 1024 * 1024, pool.RetainedBytes);
    }

    [Fact]
    public void Small_buffers_come_from_the_shared_array_pool()
    {
        var pool = new MessageBufferPool(maxRetainedBuffers: 2, maxRetainedBytes: 64L * 1024 * 1024);
        var small = pool.Rent(1000);
        Assert.InRange(small.Length, 1000, MessageBufferPool.LargeBufferThreshold - 1);
        pool.Return(small);
        Assert.Equal(0, pool.RetainedBytes);
    }
}

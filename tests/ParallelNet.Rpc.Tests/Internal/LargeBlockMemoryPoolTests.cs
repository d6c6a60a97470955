using ParallelNet.Rpc.Internal;

namespace ParallelNet.Rpc.Tests;

public sealed class LargeBlockMemoryPoolTests
{
    [Fact]
    public void Every_block_is_a_full_block_and_a_returned_one_is_reused()
    {
        using var pool = new LargeBlockMemoryPool(blockSize: 64 * 1024, maxRetainedBlocks: 4);
        var first = pool.Rent(100);
        Assert.Equal(64 * 1024, first.Memory.Length);
        first.Memory.Span[0] = 42;
        first.Dispose();
        Assert.Equal(1, pool.RetainedBlocks);

        using var second = pool.Rent();
        Assert.Equal(42, second.Memory.Span[0]);
        Assert.Equal(0, pool.RetainedBlocks);
    }

    [Fact]
    public void A_block_returned_twice_is_pooled_once_and_unusable_after_return()
    {
        using var pool = new LargeBlockMemoryPool(blockSize: 1024, maxRetainedBlocks: 4);
        var block = pool.Rent();
        block.Dispose();
        block.Dispose();
        Assert.Equal(1, pool.RetainedBlocks);
        Assert.Throws<ObjectDisposedException>(() => block.Memory);
    }

    [Fact]
    public void Retention_is_capped_so_a_burst_does_not_pin_its_peak()
    {
        using var pool = new LargeBlockMemoryPool(blockSize: 1024, maxRetainedBlocks: 2);
        var blocks = Enumerable.Range(0, 5).Select(_ => pool.Rent()).ToList();
        foreach (var block in blocks) block.Dispose();
        Assert.Equal(2, pool.RetainedBlocks);
    }

    [Fact]
    public void Requests_beyond_the_block_size_are_refused()
    {
        using var pool = new LargeBlockMemoryPool(blockSize: 1024, maxRetainedBlocks: 2);
        Assert.Equal(1024, pool.MaxBufferSize);
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(1025));
    }
}

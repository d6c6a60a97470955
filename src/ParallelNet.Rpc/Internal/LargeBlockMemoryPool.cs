using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;

namespace ParallelNet.Rpc.Internal;

/// <summary>
/// Kestrel's memory pool for a gRPC server. Kestrel's default pool hands out 4 KiB blocks, so a socket read
/// takes at most 4 KiB and a 64 MiB message crosses the server as 16,000 pipe segments; large blocks cut the
/// system calls and segment bookkeeping per byte by the same factor, which is what tensors on the wire need.
/// Freed blocks are kept for reuse up to a cap, so a burst does not pin its peak memory for the process's life.
/// </summary>
internal sealed class LargeBlockMemoryPool(int blockSize, int maxRetainedBlocks) : MemoryPool<byte>
{
    public const int DefaultBlockSize = 128 * 1024;

    /// <summary>
    /// Enough for a 64 MiB response serialized into its stream's pipe while a full 32 MiB connection window of
    /// requests waits in the others, without allocating: a smaller cap drops blocks after every large message and
    /// the next one pays for fresh pages (a page fault and a kernel page clear every 4 KiB).
    /// </summary>
    public const int DefaultMaxRetainedBlocks = 96 * 1024 * 1024 / DefaultBlockSize;

    private readonly ConcurrentBag<Block> _free = [];
    private int _retained;
    private volatile bool _disposed;

    public override int MaxBufferSize => blockSize;

    public int RetainedBlocks => Volatile.Read(ref _retained);

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, blockSize);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_free.TryTake(out var block))
        {
            Interlocked.Decrement(ref _retained);
            block.Lease();
            return block;
        }
        // Pinned: the socket layer pins every buffer it reads into or sends from; pinning once at birth is free.
        return new Block(this, GC.AllocateUninitializedArray<byte>(blockSize, pinned: true));
    }

    private void Return(Block block)
    {
        if (_disposed) return;
        if (Interlocked.Increment(ref _retained) > maxRetainedBlocks)
        {
            Interlocked.Decrement(ref _retained);
            return;
        }
        _free.Add(block);
    }

    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        _free.Clear();
    }

    private sealed class Block(LargeBlockMemoryPool pool, byte[] array) : IMemoryOwner<byte>
    {
        private int _returned;

        public Memory<byte> Memory => Volatile.Read(ref _returned) == 0 ? array
            : throw new ObjectDisposedException(nameof(Block), "This memory block was returned to the pool; it must not be used any more.");

        public void Lease() => Volatile.Write(ref _returned, 0);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _returned, 1) == 0) pool.Return(this);
        }
    }
}

/// <summary>Gives Kestrel and its socket transport <see cref="LargeBlockMemoryPool"/>s (resolved from the host's services).</summary>
internal sealed class LargeBlockMemoryPoolFactory(int blockSize, int maxRetainedBlocks) : IMemoryPoolFactory<byte>
{
    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new LargeBlockMemoryPool(blockSize, maxRetainedBlocks);
}

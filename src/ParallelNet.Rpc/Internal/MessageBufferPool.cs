using System.Buffers;

namespace ParallelNet.Rpc.Internal;

/// <summary>
/// Buffers for whole framed messages (gathering a received message, serializing one to send). Small ones come
/// from ArrayPool.Shared. Large ones are kept here instead: the shared pool drops its large arrays at every gen-2
/// GC, which tensor-sized protobuf messages trigger constantly, so each message would land in freshly mapped pages
/// and the kernel's page zeroing would cost more than the copy itself. A few are retained, up to a byte budget.
/// </summary>
internal sealed class MessageBufferPool(int maxRetainedBuffers, long maxRetainedBytes)
{
    /// <summary>Below this, ArrayPool.Shared serves well.</summary>
    public const int LargeBufferThreshold = 1024 * 1024;

    public static MessageBufferPool Shared { get; } = new(maxRetainedBuffers: 8, maxRetainedBytes: 512L * 1024 * 1024);

    private readonly List<byte[]> _retained = [];
    private long _retainedBytes;

    public long RetainedBytes
    {
        get
        {
            lock (_retained) return _retainedBytes;
        }
    }

    /// <summary>A buffer of at least <paramref name="minimumLength"/> bytes, contents undefined; give it back with <see cref="Return"/>.</summary>
    public byte[] Rent(int minimumLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(minimumLength);
        if (minimumLength < LargeBufferThreshold) return ArrayPool<byte>.Shared.Rent(minimumLength);
        lock (_retained)
        {
            var best = -1;
            for (var i = 0; i < _retained.Count; i++)
                if (_retained[i].Length >= minimumLength && (best < 0 || _retained[i].Length < _retained[best].Length))
                    best = i;
            if (best >= 0)
            {
                var buffer = _retained[best];
                _retained.RemoveAt(best);
                _retainedBytes -= buffer.Length;
                return buffer;
            }
        }
        // Whole MiB, so that messages of nearly the same size share buffers.
        var length = (int)Math.Min(Array.MaxLength, ((long)minimumLength + LargeBufferThreshold - 1) / LargeBufferThreshold * LargeBufferThreshold);
        return GC.AllocateUninitializedArray<byte>(length);
    }

    public void Return(byte[] buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        if (buffer.Length < LargeBufferThreshold)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return;
        }
        lock (_retained)
        {
            if (_retained.Count < maxRetainedBuffers && _retainedBytes + buffer.Length <= maxRetainedBytes)
            {
                _retained.Add(buffer);
                _retainedBytes += buffer.Length;
            }
        }
    }
}

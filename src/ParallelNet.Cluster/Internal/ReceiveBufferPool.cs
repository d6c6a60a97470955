namespace ParallelNet.Cluster.Internal;

/// <summary>
/// The float32 arrays a node decodes large received tensors into, reused once the local recipient hands them
/// back (a local-only release message addressed to the remote sender). Tensors of a model's size live on the
/// large object heap: allocating megabytes per message faults fresh pages in and drives full collections.
/// </summary>
internal sealed class ReceiveBufferPool
{
    /// <summary>Tensors shorter than this (64 KiB) are left to the garbage collector, which handles them cheaply.</summary>
    public const int MinPooledLength = 16 * 1024;

    /// <summary>Arrays kept per length: a few in flight per peer and version; more only waste memory.</summary>
    private const int KeptPerLength = 16;

    private readonly Lock gate = new();
    private readonly Dictionary<int, Stack<float[]>> free = [];

    /// <summary>An array of exactly <paramref name="length"/> values with unspecified contents.</summary>
    public float[] Rent(int length)
    {
        if (length >= MinPooledLength)
        {
            lock (gate)
            {
                if (free.TryGetValue(length, out Stack<float[]>? arrays) && arrays.TryPop(out float[]? reused)) return reused;
            }
        }
        return GC.AllocateUninitializedArray<float>(length);
    }

    /// <summary>Takes back an array nobody reads any more; the caller must not touch it afterwards.</summary>
    public void Return(float[] array)
    {
        ArgumentNullException.ThrowIfNull(array);
        if (array.Length < MinPooledLength) return;
        lock (gate)
        {
            if (!free.TryGetValue(array.Length, out Stack<float[]>? arrays)) free[array.Length] = arrays = new Stack<float[]>();
            if (arrays.Count < KeptPerLength && !arrays.Contains(array)) arrays.Push(array);
        }
    }

    /// <summary>Arrays waiting to be reused (tests).</summary>
    public int FreeCount
    {
        get { lock (gate) return free.Values.Sum(a => a.Count); }
    }
}

using Microsoft.Extensions.Logging;

namespace ParallelNet.Cluster.Internal.SharedMemory;

/// <summary>
/// The node's one outgoing ring, made when the first large message leaves for a peer and offered to every peer
/// after it. It keeps its name while the node runs, so peers that join later can map it; a node that dies without
/// unlinking it leaves the file to the next node started on the host (<see cref="RingFile.RemoveOrphans"/>).
/// </summary>
internal sealed class RingSupply(string directory, long capacity, ILogger logger) : IDisposable
{
    private readonly Lock gate = new();
    private SharedRing? ring;
    private bool failed;
    private bool disposed;

    /// <summary>The ring, made on first use; null when it cannot be made (said once in the log).</summary>
    public SharedRing? Get()
    {
        lock (gate)
        {
            if (ring is not null || failed || disposed) return ring;
            try
            {
                ring = SharedRing.Create(directory, capacity);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                failed = true;
                logger.LogInformation("Large messages travel on the streams: no shared-memory ring of {Bytes} bytes could be made in {Directory}: {Problem}",
                    capacity, directory, e.Message);
            }
            return ring;
        }
    }

    /// <summary>Only once no send loop runs any more.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            disposed = true;
            ring?.Dispose();
            ring = null;
        }
    }
}

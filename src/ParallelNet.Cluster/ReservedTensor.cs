using ParallelNet.Cluster.Internal.SharedMemory;

namespace ParallelNet.Cluster;

/// <summary>
/// Room for a tensor in the node's same-host ring (<see cref="ClusterNode.TryReserveTensor"/>): write the values into
/// <see cref="Values"/> and send them in a message (as its one large tensor) to the peer it was reserved for, and they
/// leave without being copied. <see cref="Cancel"/> once that message is sent, or if it never is.
/// </summary>
public sealed class ReservedTensor
{
    private readonly ReservedFloats reserved;

    internal ReservedTensor(ReservedFloats reserved) => this.reserved = reserved;

    /// <summary>Where to write the values; do not write them after sending them.</summary>
    public Memory<float> Values => reserved.Memory;

    /// <summary>True once a message took the room as its payload (sent without a copy).</summary>
    public bool IsAdopted => reserved.IsAdopted;

    /// <summary>Gives the room back, unless a message took it; later calls do nothing.</summary>
    public void Cancel() => reserved.Cancel();
}

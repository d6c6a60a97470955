namespace ParallelNet.Rpc.Internal;

/// <summary>
/// A request body whose connection can read incoming bytes from the socket straight into a waiting message buffer,
/// instead of queueing them in the request pipe for one more copy.
/// </summary>
internal interface IDirectBodyTarget
{
    /// <summary>
    /// Fills <paramref name="destination"/> with the next request bytes, read straight into it, when no bytes wait in
    /// the request pipe; returns 0 at once when some do (read those first) or the body has ended. Otherwise returns how
    /// many bytes arrived: all of the destination, or fewer when the body ended, failed, or bytes took the pipe path.
    /// When it throws, the connection may still be writing into <paramref name="destination"/>: do not reuse its memory.
    /// </summary>
    ValueTask<int> FillAsync(Memory<byte> destination, CancellationToken cancellationToken);
}

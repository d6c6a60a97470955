using ParallelNet.Cluster.Protocol;
using ParallelNet.Rpc;

namespace ParallelNet.Cluster.Internal;

/// <summary>
/// One established cluster stream to a member: the dialer's duplex call, or the acceptor's side of it.
/// Writes come from the peer's single writer loop; reads from the node's reader loop.
/// </summary>
internal sealed class Link(Member remote, bool dialed, IAsyncStreamWriter<ClusterFrame> writer, IAsyncStreamReader<ClusterFrame> reader,
    IDisposable? call, CancellationToken nodeStopping) : IDisposable
{
    private readonly CancellationTokenSource closed = CancellationTokenSource.CreateLinkedTokenSource(nodeStopping);
    private int disposed;

    public Member Remote { get; } = remote;

    /// <summary>True when this node dialed; false when the peer did.</summary>
    public bool Dialed { get; } = dialed;

    public IAsyncStreamReader<ClusterFrame> Reader { get; } = reader;

    public CancellationToken Closed => closed.Token;

    public bool IsClosed => closed.IsCancellationRequested;

    public Task WriteAsync(ClusterFrame frame) => writer.WriteAsync(frame, closed.Token);

    /// <summary>Ends the stream both ways: the reader loop stops and the call is reset.</summary>
    public void Close()
    {
        try
        {
            closed.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already disposed: nothing left to close.
        }
        call?.Dispose();
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0) return;
        Close();
        closed.Dispose();
    }

    public override string ToString() => $"{(Dialed ? "to" : "from")} {Remote}";
}

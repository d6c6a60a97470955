namespace ParallelNet.Rpc.Internal.Http2;

/// <summary>A stream's share of the sending side of HTTP/2 flow control.</summary>
internal interface IHttp2SendingStream
{
    /// <summary>Bytes we may still send on the stream; guarded by the connection's lock.</summary>
    long SendWindow { get; set; }
}

/// <summary>
/// The sending side of HTTP/2 flow control, the same on client and server connections: the connection's send window
/// and the signal that wakes senders waiting for window. Every member is called under the owning connection's lock.
/// </summary>
internal sealed class Http2SendWindows
{
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Bytes we may still send on the connection, all streams together.</summary>
    public long Connection { get; set; } = 65_535;

    /// <summary>Completes at the next <see cref="Pulse"/>: a sender that got nothing waits for it, then tries again.</summary>
    public Task Changed => _changed.Task;

    /// <summary>Takes the bytes the next DATA frame may carry (up to <paramref name="wanted"/> and one frame) from both windows; 0 when either is empty.</summary>
    public int TryTake(IHttp2SendingStream stream, int wanted, int maxFrameSize)
    {
        var granted = (int)Math.Min(Math.Min(stream.SendWindow, Connection), Math.Min(wanted, maxFrameSize));
        if (granted <= 0) return 0;
        stream.SendWindow -= granted;
        Connection -= granted;
        return granted;
    }

    /// <summary>A frame was not sent (its stream is gone): its bytes go back to the other streams.</summary>
    public void GiveBack(int count)
    {
        Connection += count;
        Pulse();
    }

    /// <summary>Wakes every sender waiting for window (a window grew, or a stream or the connection ended).</summary>
    public void Pulse()
    {
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }
}

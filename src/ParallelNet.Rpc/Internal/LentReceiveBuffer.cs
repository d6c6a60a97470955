namespace ParallelNet.Rpc.Internal;

/// <summary>
/// The receive buffer that the message last read borrows its large bytes from, for methods that lend their received
/// bytes (<see cref="Method{TRequest, TResponse}.LendsReceivedBytes"/>): it goes back to the pool when the next message
/// is read or the handler is done, so tensor traffic reuses one buffer instead of faulting in fresh LOH memory each time.
/// </summary>
internal sealed class LentReceiveBuffer
{
    private byte[]? _buffer;

    /// <summary>Takes the buffer the message just read borrows from (the previous one must have been released).</summary>
    public void Hold(byte[] buffer)
    {
        Release();
        _buffer = buffer;
    }

    /// <summary>The reader is done with the previous message: its buffer may serve the next one.</summary>
    public void Release()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } buffer) MessageBufferPool.Shared.Return(buffer);
    }
}

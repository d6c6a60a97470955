using System.Net;

namespace ParallelNet.Rpc.Internal;

/// <summary>The body of a unary or server-streaming request: one framed message.</summary>
internal sealed class SingleMessageContent(FramedMessage framed) : HttpContent
{
    private const int Idle = 0, Sending = 1, Returned = 2;
    private int _state;

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        if (Interlocked.CompareExchange(ref _state, Sending, Idle) != Idle)
            throw new InvalidOperationException("A gRPC request body can be sent only once.");
        try
        {
            await StreamMessageFraming.WriteMessageAsync(stream, framed, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _state, Returned);
            framed.Dispose();
        }
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, default);

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        // A body being sent returns its buffer when the send ends; only an unsent one returns it here.
        if (disposing && Interlocked.CompareExchange(ref _state, Returned, Idle) == Idle) framed.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>
/// The body of a client-streaming or duplex request: sends the HEADERS frame at once, then lets the
/// call write one framed message at a time until Complete ends the stream (END_STREAM).
/// </summary>
internal sealed class RequestStreamContent : HttpContent
{
    private readonly TaskCompletionSource<Stream> _streamReady = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<Stream> StreamReady => _streamReady.Task;

    public void Complete() => _completed.TrySetResult();

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        // Flushing sends the request headers: the server may wait for them before it answers anything.
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        _streamReady.TrySetResult(stream);
        await _completed.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, default);

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}

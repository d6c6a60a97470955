using System.Threading.Channels;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using ParallelNet.Actors;
using ParallelNet.Cluster.Protocol;

namespace ParallelNet.Cluster.Internal;

/// <summary>
/// Everything this node sends to one peer address: a bounded queue and one writer loop that drains it
/// onto the current link, in order. Messages wait while there is no link (the node dials meanwhile);
/// past the count or byte limit new ones are dropped with a log line, so a dead peer cannot eat memory.
/// </summary>
internal sealed class Association : IAsyncDisposable
{
    private readonly Channel<OutboundMessage> queue = Channel.CreateUnbounded<OutboundMessage>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource stopping = new();
    private readonly ClusterNodeOptions options;
    private readonly ILogger logger;
    private readonly DropLog dropLog;
    private readonly Action<Association> needsLink;
    private readonly Lock gate = new();
    private readonly int chunkSize;
    private readonly Task writer;
    private TaskCompletionSource<Link> linkReady = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Link? sendLink;
    private int queuedCount;
    private long queuedBytes;

    public Association(Address remote, ClusterNodeOptions options, ILogger logger, DropLog dropLog, Action<Association> needsLink)
    {
        Remote = remote;
        this.options = options;
        this.logger = logger;
        this.dropLog = dropLog;
        this.needsLink = needsLink;
        // Room for the frame's own fields (paths, type id) next to the data.
        chunkSize = options.MaxFrameSize - 16 * 1024;
        writer = Task.Run(WriteLoopAsync);
    }

    public Address Remote { get; }

    public Endpoint Endpoint => Endpoint.Of(Remote);

    /// <summary>The member's incarnation once a handshake told it; 0 before.</summary>
    public ulong Uid { get; set; }

    /// <summary>When this node last tried to dial the peer for this queue (TimeProvider timestamp).</summary>
    public long LastDialTimestamp { get; set; } = long.MinValue;

    public bool HasLink
    {
        get { lock (gate) return sendLink is { IsClosed: false }; }
    }

    public bool HasQueuedMessages => Volatile.Read(ref queuedCount) > 0;

    /// <summary>Queues <paramref name="message"/>; false (and a log line) when the queue is full or closed.</summary>
    public bool TryEnqueue(OutboundMessage message, string description)
    {
        int count = Interlocked.Increment(ref queuedCount);
        long bytes = Interlocked.Add(ref queuedBytes, message.PayloadLength);
        if (count > options.MaxQueuedMessagesPerPeer || bytes > options.MaxQueuedBytesPerPeer)
        {
            Release(message);
            dropLog.Warn($"queue-full {Remote}", () => $"Dropped {description} for {Remote}: its send queue is full ({count - 1} messages, " +
                $"{bytes - message.PayloadLength} bytes queued); the peer is slow, unreachable or gone.");
            message.Written?.TrySetResult();
            return false;
        }
        if (queue.Writer.TryWrite(message)) return true;
        Release(message);
        message.Written?.TrySetResult();
        return false;
    }

    /// <summary>Makes <paramref name="link"/> the one this queue is written to, unless a live one is already in use.</summary>
    public void OfferLink(Link link)
    {
        lock (gate)
        {
            if (sendLink is { IsClosed: false }) return;
            sendLink = link;
            linkReady.TrySetResult(link);
        }
    }

    /// <summary>The link ended: stop writing to it; the writer waits for the next one.</summary>
    public void LinkClosed(Link link)
    {
        lock (gate)
        {
            if (!ReferenceEquals(sendLink, link)) return;
            sendLink = null;
            if (linkReady.Task.IsCompleted) linkReady = new TaskCompletionSource<Link>(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    private async Task WriteLoopAsync()
    {
        ChannelReader<OutboundMessage> reader = queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(stopping.Token).ConfigureAwait(false))
            {
                while (reader.TryRead(out OutboundMessage? message))
                {
                    Release(message);
                    try
                    {
                        Link link = await CurrentLinkAsync().ConfigureAwait(false);
                        try
                        {
                            await WriteAsync(link, message).ConfigureAwait(false);
                        }
                        catch (Exception ex) when (!stopping.IsCancellationRequested)
                        {
                            logger.LogDebug(ex, "Writing to {Link} failed; the stream is closed and the message lost.", link);
                            link.Close();
                            LinkClosed(link);
                        }
                    }
                    finally
                    {
                        message.Written?.TrySetResult();
                    }
                }
            }
        }
        catch (Exception) when (stopping.IsCancellationRequested)
        {
            // The peer was removed or the node stops; what is still queued is dropped below.
        }
        int dropped = 0;
        while (reader.TryRead(out OutboundMessage? message))
        {
            message.Written?.TrySetResult();
            dropped++;
        }
        if (dropped > 0) logger.LogInformation("Dropped {Count} messages still queued for {Remote}.", dropped, Remote);
    }

    private async Task<Link> CurrentLinkAsync()
    {
        Task<Link> ready;
        lock (gate)
        {
            if (sendLink is { IsClosed: false } live) return live;
            if (sendLink is not null)
            {
                sendLink = null;
                linkReady = new TaskCompletionSource<Link>(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            ready = linkReady.Task;
        }
        needsLink(this);
        return await ready.WaitAsync(stopping.Token).ConfigureAwait(false);
    }

    private async Task WriteAsync(Link link, OutboundMessage message)
    {
        if (message.Frame is { } frame)
        {
            await link.WriteAsync(frame).ConfigureAwait(false);
            return;
        }
        MessageStart start = message.Start!;
        List<ReadOnlyMemory<byte>> payload = message.Payload!;
        if (message.PayloadLength <= chunkSize)
        {
            // One frame: small payloads are usually one segment already; several are joined (cheap at this size).
            var data = payload.Count switch
            {
                0 => ByteString.Empty,
                1 => UnsafeByteOperations.UnsafeWrap(payload[0]),
                _ => UnsafeByteOperations.UnsafeWrap(Join(payload, message.PayloadLength)),
            };
            await link.WriteAsync(new ClusterFrame { Message = new MessageStart(start) { Data = data } }).ConfigureAwait(false);
            return;
        }
        // Large payloads go out as frames of at most chunkSize, each a view of the caller's memory.
        bool first = true;
        foreach (ReadOnlyMemory<byte> segment in payload)
        {
            for (int offset = 0; offset < segment.Length; offset += chunkSize)
            {
                ByteString piece = UnsafeByteOperations.UnsafeWrap(segment.Slice(offset, Math.Min(chunkSize, segment.Length - offset)));
                ClusterFrame next = first
                    ? new ClusterFrame { Message = new MessageStart(start) { Data = piece } }
                    : new ClusterFrame { Continuation = new MessageContinuation { Data = piece } };
                first = false;
                await link.WriteAsync(next).ConfigureAwait(false);
            }
        }
    }

    private static byte[] Join(List<ReadOnlyMemory<byte>> segments, long length)
    {
        var joined = GC.AllocateUninitializedArray<byte>((int)length);
        int offset = 0;
        foreach (ReadOnlyMemory<byte> segment in segments)
        {
            segment.Span.CopyTo(joined.AsSpan(offset));
            offset += segment.Length;
        }
        return joined;
    }

    private void Release(OutboundMessage message)
    {
        Interlocked.Decrement(ref queuedCount);
        Interlocked.Add(ref queuedBytes, -message.PayloadLength);
    }

    /// <summary>Stops the writer and drops what is still queued; the links are closed by their owner.</summary>
    public async ValueTask DisposeAsync()
    {
        queue.Writer.TryComplete();
        await stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await writer.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Expected: the writer was waiting for a link.
        }
        stopping.Dispose();
    }

    public override string ToString() => $"Association({Remote})";
}

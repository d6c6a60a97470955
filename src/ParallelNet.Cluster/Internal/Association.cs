using System.Collections.Concurrent;
using System.Diagnostics;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using ParallelNet.Actors;
using ParallelNet.Cluster.Internal.SharedMemory;
using ParallelNet.Cluster.Protocol;

namespace ParallelNet.Cluster.Internal;

/// <summary>
/// Everything this node sends to one peer address: a bounded queue and one writer loop that drains it
/// onto the current link, in order. Messages wait while there is no link (the node dials meanwhile);
/// past the count or byte limit new ones are dropped with a log line, so a dead peer cannot eat memory.
/// </summary>
internal sealed class Association : IAsyncDisposable
{
    /// <summary>Messages up to this size may share a frame with others.</summary>
    private const int BatchableSize = 64 * 1024;

    private const int MaxBatchCount = 4096;

    /// <summary>What a piece of a frame's data may cost beyond its bytes: its field tag and length.</summary>
    private const int PieceOverhead = 16;

    private readonly ConcurrentQueue<OutboundMessage> queue = new();
    private readonly CancellationTokenSource stopping = new();
    private readonly ClusterNodeOptions options;
    private readonly ILogger logger;
    private readonly DropLog dropLog;
    private readonly Action<Association> needsLink;
    private readonly WriterPlacement writers;
    private readonly Lock gate = new();
    private readonly int chunkSize;
    private readonly RingSender? rings;
    private Task writer = Task.CompletedTask;
    private int writing;
    private bool waitingForLink;
    private TaskCompletionSource<Link> linkReady = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Link? sendLink;
    private int queuedCount;
    private int carriesTensors;
    private long queuedBytes;

    /// <param name="writers">How many of the node's peers receive tensors: decides where a writer starts (see <see cref="WriterPlacement"/>).</param>
    /// <param name="rings">The node's same-host ring, null when shared memory is off.</param>
    public Association(Address remote, ClusterNodeOptions options, ILogger logger, DropLog dropLog, Action<Association> needsLink, WriterPlacement writers,
        RingSupply? rings = null)
    {
        this.writers = writers;
        Remote = remote;
        this.options = options;
        this.logger = logger;
        this.dropLog = dropLog;
        this.needsLink = needsLink;
        // Room for the frame's own fields (paths, type id) next to the data.
        chunkSize = options.MaxFrameSize - 16 * 1024;
        if (rings is not null) this.rings = new RingSender(rings, remote, logger, options.TimeProvider);
    }

    public Address Remote { get; }

    public Endpoint Endpoint => Endpoint.Of(Remote);

    /// <summary>The member's incarnation once a handshake told it; 0 before.</summary>
    public ulong Uid { get; set; }

    /// <summary>When this node last tried to dial the peer for this queue (TimeProvider timestamp).</summary>
    public long LastDialTimestamp { get; set; } = long.MinValue;

    /// <summary>The same-host path's sender (null when shared memory is off on this node); tests look at its ring.</summary>
    internal RingSender? Rings => rings;

    /// <summary>The peer answered this node's ring offer.</summary>
    public void OnRingAnswer(SharedRingAnswer answer) => rings?.OnAnswer(answer);

    /// <summary>The peer decoded ring payloads up to a position.</summary>
    public void OnRingReleased(SharedRingReleased released) => rings?.OnReleased(released);

    public bool HasLink
    {
        get { lock (gate) return sendLink is { IsClosed: false }; }
    }

    /// <summary>True when messages wait to be written (queued, or held by the writer until a stream exists).</summary>
    public bool WantsLink => Volatile.Read(ref queuedCount) > 0 || Volatile.Read(ref waitingForLink);

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
            message.Complete();
            return false;
        }
        if (stopping.IsCancellationRequested)
        {
            Release(message);
            message.Complete();
            return false;
        }
        if (message.PayloadLength > BatchableSize && Interlocked.Exchange(ref carriesTensors, 1) == 0) writers.AddTensorPeer();
        if (rings is not null && message.Start is not null && message.PayloadLength > BatchableSize) rings.PlaceEarly(message);
        queue.Enqueue(message);
        ScheduleWriter();
        return true;
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

    /// <summary>Starts the writer unless it runs already; enqueueing stays lock-free (a lock here costs a context switch under load).</summary>
    private void ScheduleWriter()
    {
        if (Interlocked.CompareExchange(ref writing, 1, 0) != 0) return;
        writer = writers.MayRunOnSendingThread() ? WriteQueuedAsync() : Task.Run(WriteQueuedAsync);
    }

    private async Task WriteQueuedAsync()
    {
        try
        {
            while (true)
            {
                while (queue.TryDequeue(out OutboundMessage? message))
                {
                    Release(message);
                    await WriteOneAsync(message).ConfigureAwait(false);
                }
                Volatile.Write(ref writing, 0);
                // A message queued after the last TryDequeue but before the flag was cleared is ours to write.
                if (queue.IsEmpty || Interlocked.CompareExchange(ref writing, 1, 0) != 0) return;
            }
        }
        catch (Exception) when (stopping.IsCancellationRequested)
        {
            // The peer was removed or the node stops; what is still queued is dropped by DisposeAsync.
        }
    }

    private async Task WriteOneAsync(OutboundMessage message)
    {
        try
        {
            Link link = await CurrentLinkAsync().ConfigureAwait(false);
            if (message.Traced is { } traced) HopTrace.MarkMessage(traced, "write-started", Stopwatch.GetTimestamp());
            try
            {
                if (rings is not null && message.Start is not null && message.PayloadLength > BatchableSize && await rings.TryWriteAsync(link, message).ConfigureAwait(false))
                {
                    // Through the same-host ring: the stream carried only the header.
                }
                else if (IsBatchable(message) && queue.TryPeek(out OutboundMessage? next) && IsBatchable(next))
                    await WriteBatchAsync(link, message).ConfigureAwait(false);
                else
                    await WriteAsync(link, message).ConfigureAwait(false);
                if (message.Traced is { } written) HopTrace.MarkMessage(written, "written", Stopwatch.GetTimestamp());
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
            message.Complete();
        }
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
        Volatile.Write(ref waitingForLink, true);
        try
        {
            needsLink(this);
            return await ready.WaitAsync(stopping.Token).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref waitingForLink, false);
        }
    }

    private async Task WriteAsync(Link link, OutboundMessage message)
    {
        if (message.Frame is { } frame)
        {
            await link.WriteAsync(frame).ConfigureAwait(false);
            return;
        }
        // Each frame's pieces are views of the caller's segments: nothing joins a tensor to the fields around it, and a
        // message that fits one frame travels as one, which the receiver decodes straight from its receive buffer.
        bool first = true;
        foreach (List<ReadOnlyMemory<byte>> pieces in FramePieces(message.Payload!, chunkSize))
        {
            ByteString data = pieces.Count == 0 ? ByteString.Empty : UnsafeByteOperations.UnsafeWrap(pieces[0]);
            ClusterFrame next;
            if (first)
            {
                var start = new MessageStart(message.Start!) { Data = data };
                AddMoreData(start.MoreData, pieces);
                next = new ClusterFrame { Message = start };
            }
            else
            {
                var continuation = new MessageContinuation { Data = data };
                AddMoreData(continuation.MoreData, pieces);
                next = new ClusterFrame { Continuation = continuation };
            }
            first = false;
            await link.WriteAsync(next).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Cuts a payload into the pieces of successive frames of at most <paramref name="frameBytes"/> bytes (counting
    /// each piece's field overhead), in order; always at least one frame, empty for an empty payload.
    /// </summary>
    internal static List<List<ReadOnlyMemory<byte>>> FramePieces(IReadOnlyList<ReadOnlyMemory<byte>> payload, int frameBytes)
    {
        if (frameBytes <= PieceOverhead) throw new ArgumentOutOfRangeException(nameof(frameBytes), frameBytes, $"A frame must hold more than {PieceOverhead} bytes.");
        var frames = new List<List<ReadOnlyMemory<byte>>>();
        var current = new List<ReadOnlyMemory<byte>>(payload.Count);
        int room = frameBytes;
        foreach (ReadOnlyMemory<byte> segment in payload)
        {
            ReadOnlyMemory<byte> rest = segment;
            while (!rest.IsEmpty)
            {
                if (room <= PieceOverhead)
                {
                    frames.Add(current);
                    current = [];
                    room = frameBytes;
                }
                int take = Math.Min(rest.Length, room - PieceOverhead);
                current.Add(rest[..take]);
                room -= take + PieceOverhead;
                rest = rest[take..];
            }
        }
        frames.Add(current);
        return frames;
    }

    private static void AddMoreData(Google.Protobuf.Collections.RepeatedField<ByteString> moreData, List<ReadOnlyMemory<byte>> pieces)
    {
        for (int i = 1; i < pieces.Count; i++) moreData.Add(UnsafeByteOperations.UnsafeWrap(pieces[i]));
    }

    private static bool IsBatchable(OutboundMessage message) => message.Start is not null && message.PayloadLength <= BatchableSize && message.Written is null;

    /// <summary>
    /// Small messages queued back to back share one frame: each frame costs a write and a flush, which is what
    /// bounds the message rate, not the bytes. Takes the queued successors of <paramref name="first"/> while they fit.
    /// </summary>
    private async Task WriteBatchAsync(Link link, OutboundMessage first)
    {
        var batch = new MessageBatch();
        List<OutboundMessage>? successors = null;
        long size = 0;
        OutboundMessage? message = first;
        while (message is not null)
        {
            batch.Messages.Add(new MessageStart(message.Start!) { Data = SingleFrameData(message) });
            size += message.PayloadLength + message.Start!.CalculateSize();
            message = size < chunkSize - BatchableSize - 8 * 1024 && batch.Messages.Count < MaxBatchCount
                && queue.TryPeek(out OutboundMessage? next) && IsBatchable(next) && queue.TryDequeue(out next) ? next : null;
            if (message is null) continue;
            Release(message);
            (successors ??= []).Add(message);
        }
        try
        {
            await link.WriteAsync(new ClusterFrame { Batch = batch }).ConfigureAwait(false);
        }
        finally
        {
            foreach (OutboundMessage written in successors ?? []) written.Complete(); // the first is completed by its caller
        }
    }

    private static ByteString SingleFrameData(OutboundMessage message)
    {
        List<ReadOnlyMemory<byte>> payload = message.Payload!;
        return payload.Count switch
        {
            0 => ByteString.Empty,
            1 => UnsafeByteOperations.UnsafeWrap(payload[0]),
            _ => UnsafeByteOperations.UnsafeWrap(Join(payload, message.PayloadLength)),
        };
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
        await stopping.CancelAsync().ConfigureAwait(false);
        await writer.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        int dropped = 0;
        while (queue.TryDequeue(out OutboundMessage? message))
        {
            message.Complete();
            dropped++;
        }
        if (dropped > 0) logger.LogInformation("Dropped {Count} messages still queued for {Remote}.", dropped, Remote);
        rings?.Dispose();
        stopping.Dispose();
    }

    public override string ToString() => $"Association({Remote})";
}

/// <summary>
/// Where a node's association writers start. A writer started on the sending thread skips a thread-pool hop (a wake-up,
/// and on busy cores a wait for one, on a training step's critical path) but holds that thread while the socket takes
/// the message, which for megabytes can be milliseconds. So it runs there only while the node sends tensors to one
/// peer at most (a worker returning gradients has nothing else to do); a node that sends tensors to several peers (the
/// coordinator broadcasting weights) gives every writer a task, so the sender goes on to the next peer at once and the
/// sockets fill side by side.
/// </summary>
internal sealed class WriterPlacement
{
    private int tensorPeers;

    public bool MayRunOnSendingThread() => Volatile.Read(ref tensorPeers) <= 1;

    /// <summary>A peer's queue carried a message larger than a batchable one (called once per queue).</summary>
    public void AddTensorPeer() => Interlocked.Increment(ref tensorPeers);
}

using ParallelNet.Cluster.Protocol;

namespace ParallelNet.Cluster.Internal;

/// <summary>
/// One item of a peer's send queue: either a ready frame (system message, heartbeat, leaving) or an actor
/// message whose payload segments are cut into frames only when it is written.
/// </summary>
internal sealed class OutboundMessage
{
    private Action? sent;

    private OutboundMessage(ClusterFrame? frame, MessageStart? start, List<ReadOnlyMemory<byte>>? payload, long payloadLength, Action? sent)
    {
        Frame = frame;
        Start = start;
        Payload = payload;
        PayloadLength = payloadLength;
        this.sent = sent;
    }

    public ClusterFrame? Frame { get; }

    /// <summary>The header of an actor message (its data is filled in when written).</summary>
    public MessageStart? Start { get; }

    public List<ReadOnlyMemory<byte>>? Payload { get; }

    public long PayloadLength { get; }

    /// <summary>Completed once the item is on the wire (or could not be), for those who wait for a flush.</summary>
    public TaskCompletionSource? Written { get; init; }

    /// <summary>
    /// The actor message this payload encodes (null for frames): the same message told to several peers of one host
    /// is copied into the node's ring once (see <see cref="SharedMemory.SharedRing.TryPlace"/>).
    /// </summary>
    public object? Key { get; init; }

    /// <summary>Where the payload was placed in the node's ring when it was queued, and for which stream (see <see cref="SharedMemory.RingSender.PlaceEarly"/>).</summary>
    public SharedMemory.SharedRing.Placement? Placement { get; set; }

    public Link? PlacedFor { get; set; }

    /// <summary>The ring reference went (or was attempted) on the stream: the peer's release, or the stream's end, ends the hold.</summary>
    public bool PlacementSent { get; set; }

    /// <summary>The actor message itself, kept only while <see cref="ParallelNet.Actors.HopTrace"/> runs, to name its hops.</summary>
    public object? Traced { get; init; }

    /// <summary>The item is on the wire or will never be: tells the waiter, and lets the sender reuse the memory the payload referenced. Once only.</summary>
    public void Complete()
    {
        if (Placement is { } placement)
        {
            placement.Seal();
            if (!PlacementSent) placement.Release();
        }
        Written?.TrySetResult();
        Interlocked.Exchange(ref sent, null)?.Invoke();
    }

    public static OutboundMessage ForFrame(ClusterFrame frame, TaskCompletionSource? written = null) =>
        new(frame, null, null, frame.CalculateSize(), null) { Written = written };

    /// <param name="sent">Called by <see cref="Complete"/>: the payload's segments are no longer referenced.</param>
    public static OutboundMessage ForMessage(string recipient, string sender, string typeId, List<ReadOnlyMemory<byte>> payload, Action? sent = null,
        object? traced = null, object? key = null)
    {
        long length = 0;
        foreach (ReadOnlyMemory<byte> segment in payload) length += segment.Length;
        var start = new MessageStart { Recipient = recipient, Sender = sender, TypeId = typeId, TotalLength = (ulong)length };
        return new OutboundMessage(null, start, payload, length, sent) { Traced = traced, Key = key };
    }
}

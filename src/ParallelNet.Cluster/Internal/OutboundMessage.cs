using ParallelNet.Cluster.Protocol;

namespace ParallelNet.Cluster.Internal;

/// <summary>
/// One item of a peer's send queue: either a ready frame (system message, heartbeat, leaving) or an actor
/// message whose payload segments are cut into frames only when it is written.
/// </summary>
internal sealed class OutboundMessage
{
    private OutboundMessage(ClusterFrame? frame, MessageStart? start, List<ReadOnlyMemory<byte>>? payload, long payloadLength)
    {
        Frame = frame;
        Start = start;
        Payload = payload;
        PayloadLength = payloadLength;
    }

    public ClusterFrame? Frame { get; }

    /// <summary>The header of an actor message (its data is filled in when written).</summary>
    public MessageStart? Start { get; }

    public List<ReadOnlyMemory<byte>>? Payload { get; }

    public long PayloadLength { get; }

    /// <summary>Completed once the item is on the wire (or could not be), for those who wait for a flush.</summary>
    public TaskCompletionSource? Written { get; init; }

    public static OutboundMessage ForFrame(ClusterFrame frame, TaskCompletionSource? written = null) =>
        new(frame, null, null, frame.CalculateSize()) { Written = written };

    public static OutboundMessage ForMessage(string recipient, string sender, string typeId, List<ReadOnlyMemory<byte>> payload)
    {
        long length = 0;
        foreach (ReadOnlyMemory<byte> segment in payload) length += segment.Length;
        var start = new MessageStart { Recipient = recipient, Sender = sender, TypeId = typeId, TotalLength = (ulong)length };
        return new OutboundMessage(null, start, payload, length);
    }
}

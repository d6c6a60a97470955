using System.Buffers;
using ParallelNet.Cluster.Protocol;

namespace ParallelNet.Cluster.Internal;

/// <summary>
/// Puts an actor message back together from its frames on one stream: a MessageStart, then
/// MessageContinuation frames until total_length bytes have arrived. The frames' data is chained, not
/// copied: each parsed frame owns its bytes, and a sender that writes a large tensor as a frame of its own
/// lets the decoder read it in one piece. A message over the size limit is skipped (its frames are read
/// and dropped); frames that contradict each other close the stream.
/// </summary>
internal sealed class Reassembly(long maxMessageSize, Action<MessageStart> oversized)
{
    private MessageStart? pending;
    private PayloadSegment? first;
    private PayloadSegment? last;
    private long expected;
    private long received;
    private bool skipping;

    /// <summary>
    /// Takes one frame. Returns false with <paramref name="problem"/> when the stream is corrupt; otherwise
    /// <paramref name="complete"/> is the message header once its last byte arrived (else null).
    /// </summary>
    public bool Accept(ClusterFrame frame, out MessageStart? complete, out ReadOnlySequence<byte> payload, out string? problem)
    {
        complete = null;
        payload = default;
        problem = null;
        if (frame.KindCase == ClusterFrame.KindOneofCase.Message)
        {
            if (pending is not null)
            {
                problem = $"a new message began while {expected - received} bytes of the previous one were still due";
                return false;
            }
            MessageStart start = frame.Message;
            ReadOnlyMemory<byte> data = start.Data.Memory;
            if ((ulong)data.Length > start.TotalLength)
            {
                problem = $"a message frame carries {data.Length} bytes of a message announced as {start.TotalLength} bytes";
                return false;
            }
            if ((ulong)data.Length == start.TotalLength)
            {
                // The common case: the whole message in one frame.
                complete = start;
                payload = new ReadOnlySequence<byte>(data);
                return true;
            }
            pending = start;
            expected = (long)Math.Min(start.TotalLength, long.MaxValue);
            skipping = start.TotalLength > (ulong)maxMessageSize;
            if (skipping) oversized(start);
            received = 0;
            Append(data);
            return true;
        }

        if (pending is null)
        {
            problem = "a continuation frame arrived without a message to continue";
            return false;
        }
        ReadOnlyMemory<byte> more = frame.Continuation.Data.Memory;
        if (more.Length > expected - received)
        {
            problem = $"a continuation frame carries {more.Length} bytes where {expected - received} were due";
            return false;
        }
        Append(more);
        if (received < expected) return true;
        if (!skipping)
        {
            complete = pending;
            payload = PayloadSegment.Sequence(first, last);
        }
        Reset();
        return true;
    }

    private void Append(ReadOnlyMemory<byte> data)
    {
        received += data.Length;
        if (skipping || data.IsEmpty) return;
        var segment = new PayloadSegment(data, last);
        first ??= segment;
        last = segment;
    }

    private void Reset()
    {
        pending = null;
        first = last = null;
        expected = received = 0;
        skipping = false;
    }
}

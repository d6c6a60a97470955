using System.Buffers;
using Google.Protobuf;
using Google.Protobuf.Collections;
using ParallelNet.Cluster.Protocol;

namespace ParallelNet.Cluster.Internal;

/// <summary>
/// Puts an actor message back together from its frames on one stream: a MessageStart, then
/// MessageContinuation frames until total_length bytes have arrived. A frame's data is its data field
/// followed by its more_data pieces. The pieces of a message's last frame are chained, not copied, so a
/// message that fits one frame is read where it arrived. When the stream lends its frames (their bytes are
/// reused once the next frame is read), the earlier frames of a longer message are copied as they come;
/// otherwise they are chained too. A message over the size limit is skipped (its frames are read and
/// dropped); frames that contradict each other close the stream.
/// </summary>
internal sealed class Reassembly(long maxMessageSize, Action<MessageStart> oversized, bool framesAreLent = false)
{
    private MessageStart? pending;
    private PayloadSegment? first;
    private PayloadSegment? last;
    private long expected;
    private long received;
    private bool skipping;

    /// <summary>True between messages: no message has begun and not yet ended.</summary>
    public bool IsIdle => pending is null;

    /// <summary>
    /// Takes one frame. Returns false with <paramref name="problem"/> when the stream is corrupt; otherwise
    /// <paramref name="complete"/> is the message header once its last byte arrived (else null). With lent
    /// frames, <paramref name="payload"/> is valid only until the stream's next frame is read.
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
            long length = LengthOf(start.Data, start.MoreData);
            if ((ulong)length > start.TotalLength)
            {
                problem = $"a message frame carries {length} bytes of a message announced as {start.TotalLength} bytes";
                return false;
            }
            pending = start;
            expected = (long)Math.Min(start.TotalLength, long.MaxValue);
            skipping = start.TotalLength > (ulong)maxMessageSize;
            if (skipping) oversized(start);
            received = 0;
            return Take(start.Data, start.MoreData, length, out complete, out payload);
        }

        if (pending is null)
        {
            problem = "a continuation frame arrived without a message to continue";
            return false;
        }
        MessageContinuation more = frame.Continuation;
        long moreLength = LengthOf(more.Data, more.MoreData);
        if (moreLength > expected - received)
        {
            problem = $"a continuation frame carries {moreLength} bytes where {expected - received} were due";
            return false;
        }
        return Take(more.Data, more.MoreData, moreLength, out complete, out payload);
    }

    /// <summary>Appends one frame's pieces; completes the message when they were its last bytes.</summary>
    private bool Take(ByteString data, RepeatedField<ByteString> moreData, long length, out MessageStart? complete, out ReadOnlySequence<byte> payload)
    {
        complete = null;
        payload = default;
        bool isLast = received + length == expected;
        // Only the last frame is decoded before the stream moves on; an earlier lent one must be copied now.
        bool copy = framesAreLent && !isLast;
        Append(data.Memory, copy);
        foreach (ByteString piece in moreData) Append(piece.Memory, copy);
        if (!isLast) return true;
        if (!skipping)
        {
            complete = pending;
            payload = PayloadSegment.Sequence(first, last);
        }
        Reset();
        return true;
    }

    private static long LengthOf(ByteString data, RepeatedField<ByteString> moreData)
    {
        long length = data.Length;
        foreach (ByteString piece in moreData) length += piece.Length;
        return length;
    }

    private void Append(ReadOnlyMemory<byte> data, bool copy)
    {
        received += data.Length;
        if (skipping || data.IsEmpty) return;
        var segment = new PayloadSegment(copy ? data.ToArray() : data, last);
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

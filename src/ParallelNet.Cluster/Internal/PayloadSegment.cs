using System.Buffers;

namespace ParallelNet.Cluster.Internal;

/// <summary>One piece of a received payload (a frame's data) as a link of the payload's byte sequence.</summary>
internal sealed class PayloadSegment : ReadOnlySequenceSegment<byte>
{
    /// <summary>A piece holding <paramref name="memory"/>, linked after <paramref name="previous"/> when there is one.</summary>
    public PayloadSegment(ReadOnlyMemory<byte> memory, PayloadSegment? previous)
    {
        Memory = memory;
        if (previous is null) return;
        RunningIndex = previous.RunningIndex + previous.Memory.Length;
        previous.Next = this;
    }

    /// <summary>The bytes from <paramref name="first"/> through <paramref name="last"/>; empty when there are none.</summary>
    public static ReadOnlySequence<byte> Sequence(PayloadSegment? first, PayloadSegment? last) =>
        first is null || last is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
}

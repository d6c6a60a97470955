using System.Buffers;
using System.Runtime.InteropServices;
using Google.Protobuf;
using ParallelNet.Cluster.Internal;
using ParallelNet.Cluster.Protocol;

namespace ParallelNet.Cluster.Tests;

public sealed class ReassemblyTests
{
    private static ClusterFrame Start(ulong total, params byte[] data) =>
        new() { Message = new MessageStart { Recipient = "r", TypeId = "t", TotalLength = total, Data = ByteString.CopyFrom(data) } };

    private static ClusterFrame More(params byte[] data) => new() { Continuation = new MessageContinuation { Data = ByteString.CopyFrom(data) } };

    [Fact]
    public void Frames_of_one_message_are_joined_and_a_whole_message_passes_through()
    {
        var reassembly = new Reassembly(100, _ => throw new InvalidOperationException("not oversized"));
        Assert.True(reassembly.Accept(Start(5, 1, 2), out MessageStart? complete, out _, out _));
        Assert.Null(complete);
        Assert.True(reassembly.Accept(More(3, 4), out complete, out _, out _));
        Assert.Null(complete);
        Assert.True(reassembly.Accept(More(5), out complete, out ReadOnlySequence<byte> payload, out _));
        Assert.NotNull(complete);
        Assert.Equal([1, 2, 3, 4, 5], payload.ToArray());

        Assert.True(reassembly.Accept(Start(2, 7, 8), out complete, out payload, out _));
        Assert.NotNull(complete);
        Assert.Equal([7, 8], payload.ToArray());
    }

    [Fact]
    public void A_frame_of_a_longer_message_is_used_in_place_not_copied()
    {
        ClusterFrame tensor = More(3, 4, 5, 6);
        var reassembly = new Reassembly(100, _ => throw new InvalidOperationException("not oversized"));
        Assert.True(reassembly.Accept(Start(6, 1, 2), out _, out _, out _));
        Assert.True(reassembly.Accept(tensor, out MessageStart? complete, out ReadOnlySequence<byte> payload, out _));
        Assert.NotNull(complete);
        Assert.Equal([1, 2, 3, 4, 5, 6], payload.ToArray());

        ReadOnlySequence<byte> tail = payload.Slice(2);
        Assert.True(tail.IsSingleSegment);
        Assert.True(MemoryMarshal.TryGetArray(tail.First, out ArraySegment<byte> used));
        Assert.True(MemoryMarshal.TryGetArray(tensor.Continuation.Data.Memory, out ArraySegment<byte> received));
        Assert.Same(received.Array, used.Array);
    }

    [Fact]
    public void The_pieces_of_a_frame_follow_its_data_in_order()
    {
        var start = new MessageStart { Recipient = "r", TypeId = "t", TotalLength = 7, Data = ByteString.CopyFrom(1, 2) };
        start.MoreData.Add(ByteString.CopyFrom(3));
        start.MoreData.Add(ByteString.Empty);
        var more = new MessageContinuation { Data = ByteString.Empty };
        more.MoreData.Add(ByteString.CopyFrom(4, 5));
        more.MoreData.Add(ByteString.CopyFrom(6, 7));
        var reassembly = new Reassembly(100, _ => throw new InvalidOperationException("not oversized"));

        Assert.True(reassembly.Accept(new ClusterFrame { Message = start }, out MessageStart? complete, out _, out _));
        Assert.Null(complete);
        Assert.True(reassembly.Accept(new ClusterFrame { Continuation = more }, out complete, out ReadOnlySequence<byte> payload, out _));
        Assert.NotNull(complete);
        Assert.Equal([1, 2, 3, 4, 5, 6, 7], payload.ToArray());

        var whole = new MessageStart { Recipient = "r", TypeId = "t", TotalLength = 3, Data = ByteString.CopyFrom(8) };
        whole.MoreData.Add(ByteString.CopyFrom(9, 10));
        Assert.True(reassembly.Accept(new ClusterFrame { Message = whole }, out complete, out payload, out _));
        Assert.NotNull(complete);
        Assert.Equal([8, 9, 10], payload.ToArray());

        var lying = new MessageStart { Recipient = "r", TypeId = "t", TotalLength = 2, Data = ByteString.CopyFrom(1) };
        lying.MoreData.Add(ByteString.CopyFrom(2, 3));
        Assert.False(new Reassembly(100, _ => { }).Accept(new ClusterFrame { Message = lying }, out _, out _, out string? problem));
        Assert.Contains("announced as 2 bytes", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Lent_frames_are_copied_while_the_message_is_incomplete_and_its_last_frame_is_used_in_place()
    {
        byte[] firstBuffer = [1, 2], lastBuffer = [3, 4, 5, 6];
        var reassembly = new Reassembly(100, _ => throw new InvalidOperationException("not oversized"), framesAreLent: true);
        var start = new ClusterFrame { Message = new MessageStart { Recipient = "r", TypeId = "t", TotalLength = 6, Data = UnsafeByteOperations.UnsafeWrap(firstBuffer) } };
        Assert.True(reassembly.Accept(start, out _, out _, out _));
        firstBuffer[0] = 99; // the stream reuses the buffer for the next frame

        var tensor = new ClusterFrame { Continuation = new MessageContinuation { Data = UnsafeByteOperations.UnsafeWrap(lastBuffer) } };
        Assert.True(reassembly.Accept(tensor, out MessageStart? complete, out ReadOnlySequence<byte> payload, out _));
        Assert.NotNull(complete);
        Assert.Equal([1, 2, 3, 4, 5, 6], payload.ToArray());
        Assert.True(MemoryMarshal.TryGetArray(payload.Slice(2).First, out ArraySegment<byte> used));
        Assert.Same(lastBuffer, used.Array);
    }

    [Fact]
    public void Contradictory_frames_are_reported_and_an_oversized_message_is_skipped()
    {
        Assert.False(new Reassembly(100, _ => { }).Accept(More(1), out _, out _, out string? problem));
        Assert.Contains("without a message", problem, StringComparison.Ordinal);
        Assert.False(new Reassembly(100, _ => { }).Accept(Start(1, 1, 2), out _, out _, out problem));

        var overlong = new Reassembly(100, _ => { });
        Assert.True(overlong.Accept(Start(3, 1), out _, out _, out _));
        Assert.False(overlong.Accept(More(1, 2, 3), out _, out _, out problem));
        var interleaved = new Reassembly(100, _ => { });
        Assert.True(interleaved.Accept(Start(3, 1), out _, out _, out _));
        Assert.False(interleaved.Accept(Start(1, 1), out _, out _, out _));

        MessageStart? skipped = null;
        var limited = new Reassembly(4, s => skipped = s);
        Assert.True(limited.Accept(Start(6, 1, 2, 3), out MessageStart? complete, out _, out _));
        Assert.NotNull(skipped);
        Assert.True(limited.Accept(More(4, 5, 6), out complete, out _, out _));
        Assert.Null(complete);
        Assert.True(limited.Accept(Start(1, 9), out complete, out ReadOnlySequence<byte> payload, out _));
        Assert.Equal([9], payload.ToArray());
    }
}

using System.Buffers;
using System.Runtime.InteropServices;
using ParallelNet.Actors;
using ParallelNet.Cluster.Internal;

using ParallelNet.Cluster.Tests.Support;

namespace ParallelNet.Cluster.Tests;

public sealed class PayloadTests
{
    private static ReadOnlyMemory<byte> Join(List<ReadOnlyMemory<byte>> segments)
    {
        var all = new List<byte>();
        foreach (ReadOnlyMemory<byte> segment in segments) all.AddRange(segment.ToArray());
        return all.ToArray();
    }

    private static (List<ReadOnlyMemory<byte>> Segments, float[] Big) WriteEveryFieldKind()
    {
        var writer = new PayloadWriter(new NoReferences());
        float[] big = [.. Enumerable.Range(0, 5000).Select(i => i * 0.5f)];
        writer.WriteInt32(-3);
        writer.WriteInt64(long.MinValue);
        writer.WriteUInt64(ulong.MaxValue);
        writer.WriteSingle(float.NaN);
        writer.WriteDouble(Math.PI);
        writer.WriteBoolean(true);
        writer.WriteString(null);
        writer.WriteString("grüße");
        writer.WriteFloats(big);
        writer.WriteFloats(new float[] { 1, 2, 3 });
        writer.WriteBytes(new byte[] { 9, 8 });
        writer.WriteInt32s([int.MinValue, 0, 7]);
        writer.WriteDoubles([double.Epsilon, -1.25]);
        return (writer.Finish(), big);
    }

    private static void AssertEveryFieldKind(PayloadReader reader, float[] big)
    {
        Assert.Equal(-3, reader.ReadInt32());
        Assert.Equal(long.MinValue, reader.ReadInt64());
        Assert.Equal(ulong.MaxValue, reader.ReadUInt64());
        Assert.True(float.IsNaN(reader.ReadSingle()));
        Assert.Equal(Math.PI, reader.ReadDouble());
        Assert.True(reader.ReadBoolean());
        Assert.Null(reader.ReadString());
        Assert.Equal("grüße", reader.ReadString());
        Assert.Equal(big, reader.ReadFloats());
        var small = new float[3];
        reader.ReadFloats(small);
        Assert.Equal([1f, 2f, 3f], small);
        Assert.Equal([9, 8], reader.ReadBytes().ToArray());
        Assert.Equal([int.MinValue, 0, 7], reader.ReadInt32s());
        Assert.Equal([double.Epsilon, -1.25], reader.ReadDoubles());
        Assert.Equal(0, reader.Remaining);
    }

    /// <summary>The bytes as a sequence of pieces of <paramref name="pieceSize"/> (the last shorter), as frames deliver them.</summary>
    private static ReadOnlySequence<byte> InPieces(byte[] bytes, int pieceSize)
    {
        PayloadSegment? first = null, last = null;
        for (int offset = 0; offset < bytes.Length; offset += pieceSize)
        {
            last = new PayloadSegment(bytes.AsMemory(offset, Math.Min(pieceSize, bytes.Length - offset)), last);
            first ??= last;
        }
        return PayloadSegment.Sequence(first, last);
    }

    [Fact]
    public void Every_field_kind_reads_back_as_written()
    {
        var (segments, big) = WriteEveryFieldKind();

        // The large tensor is sent from the caller's array, not from a copy.
        Assert.Contains(segments, s => MemoryMarshal.TryGetMemoryManager(s, out MemoryManager<byte>? _) && s.Length == big.Length * 4);

        AssertEveryFieldKind(new PayloadReader(new NoReferences(), Join(segments)), big);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(4096)]
    public void A_payload_split_into_pieces_anywhere_reads_back_as_written(int pieceSize)
    {
        var (segments, big) = WriteEveryFieldKind();
        AssertEveryFieldKind(new PayloadReader(new NoReferences(), InPieces(Join(segments).ToArray(), pieceSize)), big);
    }

    [Fact]
    public void A_lent_tensor_from_frames_is_a_pooled_copy_that_survives_the_reuse_of_its_buffer_and_goes_back_to_the_pool()
    {
        var writer = new PayloadWriter(new NoReferences());
        float[] values = [.. Enumerable.Range(0, 20000).Select(i => i * -0.75f)];
        byte[] block = [.. Enumerable.Range(0, 2000).Select(i => (byte)i)];
        writer.WriteBytes(block);
        writer.WriteFloats(values);
        writer.WriteInt32(-1);
        byte[] receiveBuffer = Join(writer.Finish()).ToArray();
        var pool = new ReceiveBufferPool();
        var reader = new PayloadReader(new NoReferences(), new ReadOnlySequence<byte>(receiveBuffer), pool, lent: true);

        ReadOnlyMemory<byte> bytes = reader.ReadBytes();
        LentFloats lent = reader.ReadLentFloats();
        Assert.Equal(-1, reader.ReadInt32());
        Array.Fill(receiveBuffer, (byte)0xAB); // the next frame lands in the same buffer

        Assert.Equal(block, bytes.ToArray());
        Assert.Equal(values, lent.Values.ToArray());
        Assert.Equal(0, pool.FreeCount);
        lent.Release();
        lent.Release();
        Assert.Equal(1, pool.FreeCount);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(63)]
    public void A_large_tensor_starts_on_an_aligned_offset_of_the_payload_and_a_small_one_is_not_padded(int headBytes)
    {
        var writer = new PayloadWriter(new NoReferences());
        writer.WriteBytes(new byte[headBytes]);
        writer.WriteFloats(new float[] { 1f, 2f });
        float[] large = [.. Enumerable.Range(0, 300).Select(i => (float)i)];
        writer.WriteFloats(large);
        writer.WriteInt32(7);
        byte[] payload = Join(writer.Finish()).ToArray();

        int afterSmall = 4 + headBytes + 4 + 8;
        int start = afterSmall + 4;
        start += (PayloadWriter.TensorAlignment - start % PayloadWriter.TensorAlignment) % PayloadWriter.TensorAlignment;
        Assert.Equal(start + large.Length * 4 + 4, payload.Length);
        Assert.Equal(large, MemoryMarshal.Cast<byte, float>(payload.AsSpan(start, large.Length * 4)).ToArray());
        var reader = new PayloadReader(new NoReferences(), InPieces(payload, 50));
        reader.ReadBytes();
        Assert.Equal([1f, 2f], reader.ReadFloats());
        Assert.Equal(large, reader.ReadFloats());
        Assert.Equal(7, reader.ReadInt32());
    }

    [Fact]
    public void A_lent_tensor_is_gathered_from_the_pieces_it_arrived_in()
    {
        var writer = new PayloadWriter(new NoReferences());
        float[] values = [.. Enumerable.Range(0, 3000).Select(i => i * 0.25f)];
        writer.WriteInt64(42);
        writer.WriteFloats(values);
        var reader = new PayloadReader(new NoReferences(), InPieces(Join(writer.Finish()).ToArray(), 1000));

        Assert.Equal(42, reader.ReadInt64());
        Assert.Equal(values, reader.ReadLentFloats().Values.ToArray());
    }

    [Fact]
    public void A_truncated_or_lying_payload_throws_FormatException()
    {
        var writer = new PayloadWriter(new NoReferences());
        writer.WriteFloats(new float[] { 1, 2, 3, 4 });
        byte[] bytes = Join(writer.Finish()).ToArray();

        Assert.Throws<FormatException>(() => new PayloadReader(new NoReferences(), bytes.AsMemory(0, bytes.Length - 1)).ReadFloats());
        bytes[0] = 0xFF; bytes[1] = 0xFF; bytes[2] = 0xFF; bytes[3] = 0x7F; // int.MaxValue floats announced
        Assert.Throws<FormatException>(() => new PayloadReader(new NoReferences(), bytes).ReadFloats());
        Assert.Throws<FormatException>(() => new PayloadReader(new NoReferences(), new byte[] { 2 }).ReadBoolean());
        Assert.Throws<FormatException>(() => new PayloadReader(new NoReferences(), new byte[] { 1, 0 }).ReadInt32());
        Assert.Throws<FormatException>(() => new PayloadReader(new NoReferences(), InPieces(new byte[] { 3, 0, 0, 0, 1, 2, 3, 4, 5 }, 2)).ReadFloats());
    }

    [Fact]
    public void TensorBytes_wraps_floats_without_copying_and_decodes_them()
    {
        float[] values = [1f, -0.5f, 3e-9f];
        ReadOnlyMemory<byte> bytes = TensorBytes.AsBytes(values);
        values[0] = 2f; // a view, not a copy
        Assert.Equal([2f, -0.5f, 3e-9f], TensorBytes.ToFloats(bytes.Span));
        Assert.Equal(values, TensorBytes.ToFloats(TensorBytes.ToByteString(values).Span));
        Assert.Throws<FormatException>(() => TensorBytes.ToFloats(new byte[5]));
    }
}

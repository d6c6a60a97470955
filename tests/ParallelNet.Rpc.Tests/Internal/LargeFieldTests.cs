using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Google.Protobuf;
using ParallelNet.Rpc.Internal;
using ParallelNet.Rpc.Tests.Protos;

namespace ParallelNet.Rpc.Tests;

/// <summary>
/// The scattered send (FramedMessage) and the borrowing parse (LargeFieldParser) against Google.Protobuf's own
/// serializer and parser: same messages back, the large fields as views of the receive buffer and not copies.
/// </summary>
public sealed class LargeFieldTests
{
    private const int Large = LargeFieldParser.BorrowThreshold;

    private static ByteString Bytes(Random random, int length)
    {
        var data = new byte[length];
        random.NextBytes(data);
        return UnsafeByteOperations.UnsafeWrap(data);
    }

    private static Tensor RandomTensor(Random random, int length) =>
        new() { Name = "t" + random.Next(100), Data = Bytes(random, length), Shape = { random.Next(1, 9), length } };

    /// <summary>Every shape at once: large and small values in singular, oneof, repeated, map, optional and nested fields.</summary>
    public static TheoryData<string> Shapes() => ["tensor-oneof", "raw-oneof", "note-oneof", "repeated-mixed", "chunks-mixed", "nested", "small-only", "empty"];

    private static Envelope Build(string shape, Random random)
    {
        var envelope = new Envelope { Label = shape, Sequence = random.NextInt64() };
        switch (shape)
        {
            case "tensor-oneof":
                envelope.Tensor = RandomTensor(random, Large * 3 + 7);
                envelope.Named.Add("k", Bytes(random, Large + 1));
                envelope.Extra = Bytes(random, Large);
                break;
            case "raw-oneof":
                envelope.Raw = Bytes(random, Large * 2);
                envelope.Single = RandomTensor(random, 100);
                break;
            case "note-oneof":
                envelope.Note = "a note";
                envelope.Single = RandomTensor(random, Large + 5);
                break;
            case "repeated-mixed":
                for (var i = 0; i < 6; i++) envelope.Tensors.Add(RandomTensor(random, i % 2 == 0 ? Large + i : 10 + i));
                break;
            case "chunks-mixed":
                for (var i = 0; i < 5; i++) envelope.Chunks.Add(Bytes(random, i % 2 == 1 ? Large * 2 + i : i));
                envelope.Extra = ByteString.Empty;
                break;
            case "nested":
                envelope.Inner = Build("tensor-oneof", random);
                envelope.Inner.Inner = Build("repeated-mixed", random);
                envelope.Tensors.Add(RandomTensor(random, 3));
                break;
            case "small-only":
                envelope.Raw = Bytes(random, 1000);
                envelope.Chunks.Add(Bytes(random, 10));
                break;
        }
        return envelope;
    }

    private static byte[] Concatenate(FramedMessage framed)
    {
        var bytes = new byte[framed.Length];
        var offset = 0;
        foreach (var piece in framed.Pieces)
        {
            piece.Span.CopyTo(bytes.AsSpan(offset));
            offset += piece.Length;
        }
        Assert.Equal(framed.Length, offset);
        return bytes;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Scattered_frame_parses_to_the_same_message_with_googles_parser(string shape)
    {
        var message = Build(shape, new Random(shape.Length));
        using var framed = FramedMessage.Create(message, maxMessageSize: null);
        var bytes = Concatenate(framed);

        Assert.Equal(0, bytes[0]);
        Assert.Equal(message.CalculateSize(), (int)BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(1)));
        Assert.Equal(message, Envelope.Parser.ParseFrom(bytes.AsSpan(GrpcProtocol.MessageHeaderSize)));
    }

    [Fact]
    public void Scattered_frame_sends_large_fields_from_the_callers_memory()
    {
        var random = new Random(1);
        var message = new Envelope { Label = "x", Tensors = { RandomTensor(random, Large), RandomTensor(random, Large * 2) }, Raw = Bytes(random, Large) };
        using var framed = FramedMessage.Create(message, maxMessageSize: null);

        var borrowed = framed.Pieces.Where(p => p.Length >= Large).ToList();
        Assert.Equal(3, borrowed.Count);
        Assert.Contains(borrowed, p => SameMemory(p, message.Raw.Memory));
        foreach (var tensor in message.Tensors) Assert.Contains(borrowed, p => SameMemory(p, tensor.Data.Memory));
    }

    [Fact]
    public void Scattered_frame_refuses_a_message_over_the_limit()
    {
        var message = new Envelope { Raw = ByteString.CopyFrom(new byte[Large]) };
        var ex = Assert.Throws<RpcException>(() => FramedMessage.Create(message, maxMessageSize: Large));
        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Borrowing_parse_equals_googles_parse(string shape)
    {
        var message = Build(shape, new Random(shape.Length + 100));
        var bytes = message.ToByteArray();

        var parsed = LargeFieldParser.Parse(Envelope.Parser, bytes, bytes.Length, out var borrowed);

        Assert.Equal(message, parsed);
        Assert.Equal(shape is not ("small-only" or "empty"), borrowed);
    }

    [Fact]
    public void Borrowing_parse_leaves_large_fields_in_the_buffer_and_copies_small_singular_ones()
    {
        var random = new Random(2);
        var message = new Envelope { Tensor = RandomTensor(random, Large * 2), Chunks = { Bytes(random, 5), Bytes(random, Large) }, Extra = Bytes(random, 5), Label = "l" };
        var bytes = message.ToByteArray();
        var buffer = new byte[bytes.Length + 100];
        bytes.CopyTo(buffer, 0);

        var parsed = LargeFieldParser.Parse(Envelope.Parser, buffer, bytes.Length, out var borrowed);

        Assert.True(borrowed);
        Assert.Equal(message, parsed);
        Assert.True(ViewsBuffer(buffer, parsed.Tensor.Data.Memory));
        Assert.True(ViewsBuffer(buffer, parsed.Chunks[1].Memory));
        // A repeated field is taken whole once one element is large, so its order survives.
        Assert.True(ViewsBuffer(buffer, parsed.Chunks[0].Memory));
        Assert.False(ViewsBuffer(buffer, parsed.Extra.Memory));
    }

    [Fact]
    public void Borrowing_parse_gives_google_the_layouts_where_order_decides()
    {
        // Two oneof members on the wire: the last one wins in protobuf, so the large one must not be set afterwards.
        var random = new Random(3);
        var large = new Envelope { Raw = Bytes(random, Large) }.ToByteArray();
        var note = new Envelope { Note = "later" }.ToByteArray();
        var bytes = large.Concat(note).ToArray();

        var parsed = LargeFieldParser.Parse(Envelope.Parser, bytes, bytes.Length, out var borrowed);

        Assert.False(borrowed);
        Assert.Equal(Envelope.Parser.ParseFrom(bytes), parsed);
        Assert.Equal("later", parsed.Note);
    }

    [Fact]
    public void Borrowing_parse_reports_malformed_input_as_google_does()
    {
        var bytes = new Envelope { Raw = ByteString.CopyFrom(new byte[Large]) }.ToByteArray();
        var truncated = bytes.AsSpan(0, bytes.Length - 1).ToArray();
        Assert.Throws<InvalidProtocolBufferException>(() => LargeFieldParser.Parse(Envelope.Parser, truncated, truncated.Length, out _));
    }

    private static bool ViewsBuffer(byte[] buffer, ReadOnlyMemory<byte> memory) =>
        MemoryMarshal.TryGetArray(memory, out var segment) && ReferenceEquals(segment.Array, buffer);

    private static bool SameMemory(ReadOnlyMemory<byte> a, ReadOnlyMemory<byte> b) =>
        MemoryMarshal.TryGetArray(a, out var x) && MemoryMarshal.TryGetArray(b, out var y)
        && ReferenceEquals(x.Array, y.Array) && x.Offset == y.Offset && x.Count == y.Count;
}

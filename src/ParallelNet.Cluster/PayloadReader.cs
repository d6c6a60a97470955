using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Google.Protobuf;
using ParallelNet.Actors;
using ParallelNet.Cluster.Internal;
using ParallelNet.Cluster.Internal.SharedMemory;

namespace ParallelNet.Cluster;

/// <summary>
/// Reads a payload written by <see cref="PayloadWriter"/>, in the same order. Every read checks the bytes
/// left: a truncated or malformed payload throws <see cref="FormatException"/>, and the node drops the
/// message with a log line. The payload may arrive in several pieces (one per frame); a value that lies
/// within one piece is read in place, one that straddles pieces is gathered.
/// </summary>
public sealed class PayloadReader
{
    private readonly IWireReferences references;
    private readonly ReceiveBufferPool? pool;
    // The payload's bytes are reused once the message is read (a lent receive buffer): nothing handed out may refer to them.
    private readonly bool lent;
    // Set when the payload lies in a peer's shared-memory ring: tensors can then be lent in place.
    private readonly RingHold? ringHold;
    private ReadOnlySequence<byte> rest;
    private long position;

    internal PayloadReader(IWireReferences references, ReadOnlyMemory<byte> data, ReceiveBufferPool? pool = null)
        : this(references, new ReadOnlySequence<byte>(data), pool)
    {
    }

    /// <param name="lent">True when <paramref name="data"/> is reused once the message is read: views are then copied before they are handed out.</param>
    /// <param name="ringHold">Set when <paramref name="data"/> lies in a peer's ring: <see cref="ReadLentFloats"/> then lends views of it.</param>
    internal PayloadReader(IWireReferences references, ReadOnlySequence<byte> data, ReceiveBufferPool? pool = null, bool lent = false, RingHold? ringHold = null)
    {
        this.references = references;
        this.pool = pool;
        this.lent = lent;
        this.ringHold = ringHold;
        rest = data;
    }

    /// <summary>Bytes not read yet.</summary>
    public int Remaining => (int)Math.Min(rest.Length, int.MaxValue);

    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(sizeof(int)).Span);

    public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(Take(sizeof(long)).Span);

    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(sizeof(ulong)).Span);

    public float ReadSingle() => BinaryPrimitives.ReadSingleLittleEndian(Take(sizeof(float)).Span);

    public double ReadDouble() => BinaryPrimitives.ReadDoubleLittleEndian(Take(sizeof(double)).Span);

    public bool ReadBoolean() => Take(1).Span[0] switch
    {
        0 => false,
        1 => true,
        byte other => throw new FormatException($"A boolean must be 0 or 1; the payload has {other} at byte {position - 1}."),
    };

    public string? ReadString()
    {
        int length = ReadInt32();
        if (length == -1) return null;
        return Encoding.UTF8.GetString(Take(CheckLength(length, "string")).Span);
    }

    /// <summary>
    /// Length-prefixed bytes, valid for as long as you keep them: a view of the received payload, or a copy when the
    /// node reuses the payload's receive buffer after the message is read.
    /// </summary>
    public ReadOnlyMemory<byte> ReadBytes()
    {
        ReadOnlyMemory<byte> bytes = Take(CheckLength(ReadInt32(), "byte block"));
        return lent ? bytes.ToArray() : bytes;
    }

    /// <summary>A float32 tensor written by <see cref="PayloadWriter.WriteFloats"/>, in a new array.</summary>
    public float[] ReadFloats()
    {
        ReadOnlySequence<byte> bytes = TakeFloats(out int count);
        var values = GC.AllocateUninitializedArray<float>(count);
        TensorBytes.CopyTo(bytes, values);
        return values;
    }

    /// <summary>
    /// As <see cref="ReadFloats()"/>, in an array that may come from the node's receive pool. Give it back when done with a
    /// local-only message registered with <see cref="MessageSerializers.RegisterLocalOnly{T}(Func{T, float[]})"/>, sent to the
    /// remote actor the tensor came from; one never given back is simply collected.
    /// </summary>
    public float[] ReadPooledFloats()
    {
        ReadOnlySequence<byte> bytes = TakeFloats(out int count);
        float[] values = pool?.Rent(count) ?? GC.AllocateUninitializedArray<float>(count);
        TensorBytes.CopyTo(bytes, values);
        return values;
    }

    /// <summary>
    /// A float32 tensor written by <see cref="PayloadWriter.WriteFloats"/>, for a recipient that only reads it and says when
    /// it is done (<see cref="LentFloats.Release"/>): a view of the sender's shared-memory ring when the message came that
    /// way (no copy at all), else a copy in an array of the node's receive pool, which the release returns there.
    /// </summary>
    public LentFloats ReadLentFloats()
    {
        ReadOnlySequence<byte> bytes = TakeFloats(out int count);
        if (ringHold is not null && bytes.IsSingleSegment && count > 0 && BitConverter.IsLittleEndian) return ringHold.Lend(bytes.First);
        float[] values = pool?.Rent(count) ?? GC.AllocateUninitializedArray<float>(count);
        TensorBytes.CopyTo(bytes, values);
        ReceiveBufferPool? returnTo = pool;
        return new LentFloats(values, () => returnTo?.Return(values));
    }

    /// <summary>A float32 tensor read straight into <paramref name="destination"/>, whose length must match the one written.</summary>
    public void ReadFloats(Span<float> destination)
    {
        ReadOnlySequence<byte> bytes = TakeFloats(out int count);
        if (count != destination.Length)
            throw new FormatException($"The payload holds {count} floats where {destination.Length} were expected.");
        TensorBytes.CopyTo(bytes, destination);
    }

    /// <summary>A tensor's count, then its bytes (past the alignment padding of a large one).</summary>
    private ReadOnlySequence<byte> TakeFloats(out int count)
    {
        count = ReadInt32();
        if (count < 0) throw new FormatException($"The payload announces {count} floats.");
        if (PayloadWriter.IsAligned(count)) TakeSequence(PayloadWriter.PaddingAt(position));
        return TakeSequence(CheckCount(count, sizeof(float), "floats"));
    }

    /// <summary>An int32 array written by <see cref="PayloadWriter.WriteInt32s"/>.</summary>
    public int[] ReadInt32s()
    {
        ReadOnlySpan<byte> bytes = Take(CheckCount(ReadInt32(), sizeof(int), "int32s")).Span;
        var values = new int[bytes.Length / sizeof(int)];
        for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes[(i * sizeof(int))..]);
        return values;
    }

    /// <summary>A float64 array written by <see cref="PayloadWriter.WriteDoubles"/>.</summary>
    public double[] ReadDoubles()
    {
        ReadOnlySpan<byte> bytes = Take(CheckCount(ReadInt32(), sizeof(double), "doubles")).Span;
        var values = new double[bytes.Length / sizeof(double)];
        for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadDoubleLittleEndian(bytes[(i * sizeof(double))..]);
        return values;
    }

    /// <summary>An actor reference written by <see cref="PayloadWriter.WriteActorRef"/>: local when it points at this node, remote otherwise.</summary>
    public IActorRef? ReadActorRef()
    {
        string? path = ReadString();
        return path is null ? null : references.Resolve(path);
    }

    public T ReadMessage<T>(MessageParser<T> parser) where T : IMessage<T>
    {
        ArgumentNullException.ThrowIfNull(parser);
        ReadOnlyMemory<byte> bytes = Take(CheckLength(ReadInt32(), "protobuf message"));
        try
        {
            return parser.ParseFrom(bytes.Span);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new FormatException($"A {typeof(T).Name} in the payload does not parse: {ex.Message}", ex);
        }
    }

    private int CheckCount(int count, int elementSize, string what)
    {
        if (count < 0 || (long)count * elementSize > Remaining)
            throw new FormatException($"The payload announces {count} {what} but has {Remaining} bytes left.");
        return count * elementSize;
    }

    private int CheckLength(int length, string what)
    {
        if (length < 0 || length > Remaining)
            throw new FormatException($"The payload announces a {what} of {length} bytes but has {Remaining} bytes left.");
        return length;
    }

    /// <summary>The next <paramref name="length"/> bytes in one piece: a view when they lie in one frame's data, else a copy.</summary>
    private ReadOnlyMemory<byte> Take(int length)
    {
        ReadOnlySequence<byte> taken = TakeSequence(length);
        return taken.IsSingleSegment ? taken.First : taken.ToArray();
    }

    private ReadOnlySequence<byte> TakeSequence(int length)
    {
        if (length > Remaining)
            throw new FormatException($"The payload ends early: {length} more bytes needed at byte {position}, {Remaining} left.");
        ReadOnlySequence<byte> taken;
        if (rest.First.Length >= length)
        {
            // Most reads stay within the current piece: slicing its memory is cheaper than slicing the sequence.
            taken = new ReadOnlySequence<byte>(rest.First[..length]);
        }
        else
        {
            taken = rest.Slice(0, length);
        }
        rest = rest.Slice(length);
        position += length;
        return taken;
    }
}

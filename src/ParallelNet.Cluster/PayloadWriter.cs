using System.Buffers.Binary;
using System.Text;
using Google.Protobuf;
using ParallelNet.Actors;
using ParallelNet.Cluster.Internal;

namespace ParallelNet.Cluster;

/// <summary>
/// Writes one message's payload for a codec registered with <see cref="MessageSerializers.Register{T}"/>:
/// little-endian scalars, length-prefixed strings and bytes, float32 tensors as raw bytes (large ones are
/// referenced, not copied, until the message is on the wire), actor references as their cluster paths.
/// </summary>
public sealed class PayloadWriter
{
    /// <summary>Blocks at least this long are sent from the caller's memory instead of being copied.</summary>
    private const int ZeroCopyThreshold = 1024;

    /// <summary>
    /// Tensors of at least <see cref="ZeroCopyThreshold"/> bytes start this far into the payload, padded after their
    /// length: a receiver that reads them in place (a shared-memory ring, whose payloads start on this boundary) then
    /// gets cache-line-aligned values, where an odd offset would split vector loads across lines.
    /// </summary>
    internal const int TensorAlignment = 64;

    private readonly IWireReferences references;
    private readonly List<ReadOnlyMemory<byte>> segments = new(1);
    private byte[] buffer = [];
    private int bufferStart;
    private int used;
    // Bytes in the closed segments.
    private long closedLength;

    internal PayloadWriter(IWireReferences references) => this.references = references;

    public void WriteInt32(int value) => BinaryPrimitives.WriteInt32LittleEndian(Reserve(sizeof(int)), value);

    public void WriteInt64(long value) => BinaryPrimitives.WriteInt64LittleEndian(Reserve(sizeof(long)), value);

    public void WriteUInt64(ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Reserve(sizeof(ulong)), value);

    public void WriteSingle(float value) => BinaryPrimitives.WriteSingleLittleEndian(Reserve(sizeof(float)), value);

    public void WriteDouble(double value) => BinaryPrimitives.WriteDoubleLittleEndian(Reserve(sizeof(double)), value);

    public void WriteBoolean(bool value) => Reserve(1)[0] = value ? (byte)1 : (byte)0;

    /// <summary>UTF-8 with a length prefix; null is kept apart from "".</summary>
    public void WriteString(string? value)
    {
        if (value is null)
        {
            WriteInt32(-1);
            return;
        }
        int length = Encoding.UTF8.GetByteCount(value);
        WriteInt32(length);
        Encoding.UTF8.GetBytes(value, Reserve(length));
    }

    /// <summary>Length-prefixed bytes; blocks of 1 KiB or more are referenced until sent, so do not change them afterwards.</summary>
    public void WriteBytes(ReadOnlyMemory<byte> value)
    {
        WriteInt32(value.Length);
        Append(value);
    }

    /// <summary>
    /// A float32 tensor: its length, then its raw little-endian bytes (referenced, not copied, when large; then also
    /// aligned to <see cref="TensorAlignment"/> bytes of the payload, with zero padding).
    /// </summary>
    public void WriteFloats(ReadOnlyMemory<float> values)
    {
        WriteInt32(values.Length);
        if ((long)values.Length * sizeof(float) >= ZeroCopyThreshold) Reserve(PaddingAt(closedLength + used - bufferStart)).Clear();
        Append(TensorBytes.AsBytes(values));
    }

    /// <summary>Zero bytes that take a tensor written at <paramref name="position"/> of the payload to the next aligned offset.</summary>
    internal static int PaddingAt(long position) => (int)((TensorAlignment - position % TensorAlignment) % TensorAlignment);

    /// <summary>True when a tensor of <paramref name="count"/> floats is padded to alignment (see <see cref="WriteFloats"/>).</summary>
    internal static bool IsAligned(long count) => count * sizeof(float) >= ZeroCopyThreshold;

    /// <summary>An int32 array: its length, then its little-endian values.</summary>
    public void WriteInt32s(ReadOnlySpan<int> values)
    {
        WriteInt32(values.Length);
        Span<byte> target = Reserve(values.Length * sizeof(int));
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(target[(i * sizeof(int))..], values[i]);
    }

    /// <summary>A float64 array: its length, then its little-endian values.</summary>
    public void WriteDoubles(ReadOnlySpan<double> values)
    {
        WriteInt32(values.Length);
        Span<byte> target = Reserve(values.Length * sizeof(double));
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(target[(i * sizeof(double))..], values[i]);
    }

    /// <summary>An actor reference (local or remote) as the path other nodes reach it by; null for none.</summary>
    public void WriteActorRef(IActorRef? actor) => WriteString(actor is null ? null : references.WirePathOf(actor));

    /// <summary>A protobuf message, length-prefixed.</summary>
    public void WriteMessage(IMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        int length = message.CalculateSize();
        WriteInt32(length);
        message.WriteTo(Reserve(length));
    }

    private void Append(ReadOnlyMemory<byte> bytes)
    {
        if (bytes.Length < ZeroCopyThreshold)
        {
            bytes.Span.CopyTo(Reserve(bytes.Length));
            return;
        }
        CloseBuffer();
        segments.Add(bytes);
        closedLength += bytes.Length;
    }

    private Span<byte> Reserve(int length)
    {
        if (buffer.Length - used < length)
        {
            CloseBuffer();
            // A fresh buffer each time: closed segments still point into the old one.
            buffer = new byte[Math.Max(length, Math.Clamp(buffer.Length * 2, 64, 64 * 1024))];
            bufferStart = 0;
            used = 0;
        }
        Span<byte> span = buffer.AsSpan(used, length);
        used += length;
        return span;
    }

    private void CloseBuffer()
    {
        if (used > bufferStart) segments.Add(buffer.AsMemory(bufferStart, used - bufferStart));
        closedLength += used - bufferStart;
        bufferStart = used;
    }

    /// <summary>The payload as the segments written so far (the writer must not be used afterwards).</summary>
    internal List<ReadOnlyMemory<byte>> Finish()
    {
        CloseBuffer();
        return segments;
    }
}

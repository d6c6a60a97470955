using System.Buffers;
using System.Runtime.InteropServices;
using Google.Protobuf;

namespace ParallelNet.Cluster;

/// <summary>
/// float32 tensors as raw little-endian bytes, the way they travel between nodes. The views share the
/// array they wrap (no copy): do not change a tensor after handing it to a message.
/// </summary>
public static class TensorBytes
{
    /// <summary>The bytes of <paramref name="values"/>, without copying (little-endian machines; a copy elsewhere).</summary>
    public static ReadOnlyMemory<byte> AsBytes(ReadOnlyMemory<float> values)
    {
        if (values.IsEmpty) return ReadOnlyMemory<byte>.Empty;
        if (!BitConverter.IsLittleEndian) return ToLittleEndianCopy(values.Span);
        return new FloatBytesManager(MemoryMarshal.AsMemory(values)).Memory;
    }

    /// <summary>A protobuf <c>bytes</c> field holding <paramref name="values"/>, wrapped without copying.</summary>
    public static ByteString ToByteString(ReadOnlyMemory<float> values) => UnsafeByteOperations.UnsafeWrap(AsBytes(values));

    /// <summary>Decodes raw little-endian float32 bytes into a new array.</summary>
    public static float[] ToFloats(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length % sizeof(float) != 0)
            throw new FormatException($"A float32 tensor needs a multiple of 4 bytes; got {bytes.Length}.");
        var values = GC.AllocateUninitializedArray<float>(bytes.Length / sizeof(float));
        CopyTo(bytes, values);
        return values;
    }

    /// <summary>Decodes raw little-endian float32 bytes into <paramref name="destination"/>, which must have exactly their length.</summary>
    public static void CopyTo(ReadOnlySpan<byte> bytes, Span<float> destination)
    {
        if (bytes.Length != destination.Length * sizeof(float))
            throw new FormatException($"{bytes.Length} bytes do not hold exactly {destination.Length} float32 values.");
        bytes.CopyTo(MemoryMarshal.AsBytes(destination));
        ToNativeOrder(destination);
    }

    /// <summary>As <see cref="CopyTo(ReadOnlySpan{byte}, Span{float})"/>, from bytes that may arrive in several pieces.</summary>
    public static void CopyTo(in ReadOnlySequence<byte> bytes, Span<float> destination)
    {
        if (bytes.IsSingleSegment)
        {
            CopyTo(bytes.FirstSpan, destination);
            return;
        }
        if (bytes.Length != (long)destination.Length * sizeof(float))
            throw new FormatException($"{bytes.Length} bytes do not hold exactly {destination.Length} float32 values.");
        bytes.CopyTo(MemoryMarshal.AsBytes(destination));
        ToNativeOrder(destination);
    }

    private static void ToNativeOrder(Span<float> values)
    {
        if (BitConverter.IsLittleEndian) return;
        Span<int> bits = MemoryMarshal.Cast<float, int>(values);
        System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(bits, bits);
    }

    private static byte[] ToLittleEndianCopy(ReadOnlySpan<float> values)
    {
        var bytes = new byte[values.Length * sizeof(float)];
        for (int i = 0; i < values.Length; i++)
            System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
        return bytes;
    }

    /// <summary>The float memory <paramref name="bytes"/> presents, when it came from <see cref="AsBytes"/> and covers it whole.</summary>
    internal static bool TryGetFloats(ReadOnlyMemory<byte> bytes, out Memory<float> values)
    {
        values = default;
        if (!MemoryMarshal.TryGetMemoryManager(bytes, out FloatBytesManager? manager, out int start, out int length)
            || start != 0 || length != manager.Values.Length * sizeof(float)) return false;
        values = manager.Values;
        return true;
    }

    /// <summary>Presents a float memory as bytes; Memory&lt;T&gt; has no reinterpreting cast of its own.</summary>
    private sealed class FloatBytesManager(Memory<float> values) : MemoryManager<byte>
    {
        public Memory<float> Values => values;

        public override Span<byte> GetSpan() => MemoryMarshal.AsBytes(values.Span);

        public override unsafe MemoryHandle Pin(int elementIndex = 0)
        {
            if (MemoryMarshal.TryGetArray<float>(values, out ArraySegment<float> segment))
            {
                // The GCHandle travels in the returned handle, so disposing it unpins the array.
                var handle = System.Runtime.InteropServices.GCHandle.Alloc(segment.Array, System.Runtime.InteropServices.GCHandleType.Pinned);
                byte* start = (byte*)handle.AddrOfPinnedObject() + (long)segment.Offset * sizeof(float);
                return new MemoryHandle(start + elementIndex, handle, this);
            }
            // Memory not backed by an array is native and already fixed in place.
            MemoryHandle native = values.Pin();
            return new MemoryHandle((byte*)native.Pointer + elementIndex, default, this);
        }

        public override void Unpin() { }

        protected override void Dispose(bool disposing) { }
    }
}

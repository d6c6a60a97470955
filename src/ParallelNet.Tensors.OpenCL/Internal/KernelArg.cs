namespace ParallelNet.Tensors.OpenCL.Internal;

/// <summary>
/// One argument of a kernel launch. A device tensor expands to two OpenCL arguments (buffer, element
/// offset), matching the TENSOR(name) macro of the kernel sources; a scratch buffer is one.
/// </summary>
internal readonly struct KernelArg
{
    public enum ArgKind : byte { Int, Long, ULong, Float, Buffer, Tensor }

    private KernelArg(ArgKind kind, long bits, DeviceBuffer? buffer)
    {
        Kind = kind;
        Bits = bits;
        Buffer = buffer;
    }

    public ArgKind Kind { get; }
    public long Bits { get; }
    /// <summary>Held as the SafeHandle, not its value, so the buffer stays alive until the launch is enqueued.</summary>
    public DeviceBuffer? Buffer { get; }

    public static implicit operator KernelArg(int value) => new(ArgKind.Int, value, null);
    public static implicit operator KernelArg(long value) => new(ArgKind.Long, value, null);
    public static implicit operator KernelArg(ulong value) => new(ArgKind.ULong, unchecked((long)value), null);
    public static implicit operator KernelArg(float value) => new(ArgKind.Float, BitConverter.SingleToInt32Bits(value), null);
    public static implicit operator KernelArg(bool value) => new(ArgKind.Int, value ? 1 : 0, null);
    public static implicit operator KernelArg(DeviceBuffer buffer) => new(ArgKind.Buffer, 0, buffer);

    /// <summary>A tensor of the launching backend (the caller has checked ownership).</summary>
    public static KernelArg Of(Tensor tensor) =>
        new(ArgKind.Tensor, tensor.Offset, ((DeviceStorage)tensor.Storage).Buffer);
}

namespace ParallelNet.Tensors;

/// <summary>Where a tensor's elements live. The CPU backend uses <see cref="HostStorage"/>; a GPU backend adds its own.</summary>
public abstract class TensorStorage
{
    public abstract int Length { get; }
}

/// <summary>Elements in a managed float array (the CPU backend, and every host-side buffer).</summary>
public sealed class HostStorage(float[] data) : TensorStorage
{
    public float[] Data { get; } = data;
    public override int Length => Data.Length;
}

/// <summary>
/// Elements in memory the tensor neither owns nor frees: a received tensor a transport lends in place (a mapped
/// shared-memory region), valid for as long as its lender says. Such memory may be read-only to this process: a tensor
/// over it is for reading alone (a replica's weights), and writing it faults.
/// </summary>
public sealed class LentHostStorage(Memory<float> memory) : TensorStorage
{
    public Memory<float> Memory { get; } = memory;
    public override int Length => Memory.Length;
}

/// <summary>
/// A float32 tensor: a shape over a contiguous window [Offset, Offset + Shape.Size) of a storage.
/// Views share storage, so parameters can be slices of one flat buffer and activations can reuse
/// buffers sized for the largest batch.
/// </summary>
public sealed class Tensor
{
    public Tensor(TensorStorage storage, int offset, Shape shape)
    {
        ArgumentNullException.ThrowIfNull(storage);
        if (offset < 0 || (long)offset + shape.Size > storage.Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"A tensor of shape {shape} at offset {offset} does not fit in a storage of {storage.Length} elements.");
        Storage = storage;
        Offset = offset;
        Shape = shape;
    }

    public TensorStorage Storage { get; }
    public int Offset { get; }
    public Shape Shape { get; }
    public int Length => Shape.Size;

    /// <summary>A new host tensor of zeros.</summary>
    public static Tensor Zeros(Shape shape) => new(new HostStorage(new float[shape.Size]), 0, shape);
    public static Tensor Zeros(params int[] dims) => Zeros(new Shape(dims));

    /// <summary>A host tensor that wraps <paramref name="data"/> without copying.</summary>
    public static Tensor FromArray(float[] data, Shape shape)
    {
        if (data.Length != shape.Size) throw new ArgumentException($"{data.Length} elements cannot have shape {shape} ({shape.Size} elements).", nameof(data));
        return new Tensor(new HostStorage(data), 0, shape);
    }

    /// <summary>
    /// A host tensor over <paramref name="memory"/> without copying: an array's window stays a plain host tensor, other
    /// memory (a transport's lent region) becomes <see cref="LentHostStorage"/>.
    /// </summary>
    public static Tensor FromMemory(Memory<float> memory, Shape shape)
    {
        if (memory.Length != shape.Size) throw new ArgumentException($"{memory.Length} elements cannot have shape {shape} ({shape.Size} elements).", nameof(memory));
        if (System.Runtime.InteropServices.MemoryMarshal.TryGetArray<float>(memory, out var segment))
            return new Tensor(new HostStorage(segment.Array!), segment.Offset, shape);
        return new Tensor(new LentHostStorage(memory), 0, shape);
    }

    public bool IsHost => Storage is HostStorage or LentHostStorage;

    /// <summary>The elements, for host tensors only. Layers must go through <see cref="ICompute"/> instead.</summary>
    public Span<float> Span => Storage is HostStorage h ? h.Data.AsSpan(Offset, Length) : OtherSpan();

    // Kept out of Span, so that the array case stays as small as it was (it is read in every kernel call).
    private Span<float> OtherSpan() => Storage is LentHostStorage lent
        ? lent.Memory.Span.Slice(Offset, Length)
        : throw new InvalidOperationException($"Tensor of shape {Shape} lives on a device ({Storage.GetType().Name}); download it through its ICompute first.");

    /// <summary>A view of <paramref name="shape"/>.Size elements starting <paramref name="offset"/> elements into this tensor.</summary>
    public Tensor View(int offset, Shape shape)
    {
        if (offset < 0 || (long)offset + shape.Size > Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"View of shape {shape} at offset {offset} exceeds tensor of shape {Shape}.");
        return new Tensor(Storage, Offset + offset, shape);
    }

    /// <summary>The same elements with another shape of equal size.</summary>
    public Tensor Reshape(Shape shape)
    {
        if (shape.Size != Length) throw new ArgumentException($"Cannot reshape {Shape} ({Length} elements) to {shape} ({shape.Size} elements).", nameof(shape));
        return new Tensor(Storage, Offset, shape);
    }

    /// <summary>The first <paramref name="rows"/> entries along the leading axis (e.g. a smaller batch in a buffer sized for the largest).</summary>
    public Tensor Rows(int start, int count)
    {
        if (Shape.Rank == 0) throw new InvalidOperationException("A scalar has no rows.");
        int rowSize = Shape.Rank == 1 ? 1 : Length / Math.Max(1, Shape[0]);
        if (start < 0 || count < 0 || start + count > Shape[0])
            throw new ArgumentOutOfRangeException(nameof(count), $"Rows [{start}, {start + count}) exceed leading dimension {Shape[0]} of {Shape}.");
        return new Tensor(Storage, Offset + start * rowSize, Shape.WithLeading(count));
    }

    public override string ToString() => $"Tensor{Shape}";
}

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ParallelNet.Tensors.Cpu.Internal;

/// <summary>A pointwise function of two inputs, written once per vector width and once for the scalar tail.</summary>
internal interface IPointwise2
{
    Vector512<float> Invoke(Vector512<float> a, Vector512<float> b);
    Vector256<float> Invoke(Vector256<float> a, Vector256<float> b);
    float Invoke(float a, float b);
}

/// <summary>
/// Applies an <see cref="IPointwise2"/> over spans with the widest vectors the CPU has. Each element's
/// result depends only on its own inputs, so the vector width never changes a value.
/// </summary>
internal static class SimdMap
{
    public static void Apply<TOp>(TOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y) where TOp : struct, IPointwise2
    {
        int length = y.Length;
        if (a.Length < length || b.Length < length) throw new ArgumentException($"SimdMap: inputs of {a.Length} and {b.Length} elements cannot fill {length} outputs.");
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        ref float ry = ref MemoryMarshal.GetReference(y);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= length - Vector512<float>.Count; i += Vector512<float>.Count)
                op.Invoke(Vector512.LoadUnsafe(ref ra, (nuint)i), Vector512.LoadUnsafe(ref rb, (nuint)i)).StoreUnsafe(ref ry, (nuint)i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= length - Vector256<float>.Count; i += Vector256<float>.Count)
                op.Invoke(Vector256.LoadUnsafe(ref ra, (nuint)i), Vector256.LoadUnsafe(ref rb, (nuint)i)).StoreUnsafe(ref ry, (nuint)i);
        }
        for (; i < length; i++) Unsafe.Add(ref ry, i) = op.Invoke(Unsafe.Add(ref ra, i), Unsafe.Add(ref rb, i));
    }
}

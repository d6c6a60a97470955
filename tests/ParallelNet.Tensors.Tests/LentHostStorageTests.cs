using System.Buffers;
using System.Runtime.InteropServices;
using ParallelNet.Tensors.Cpu;

namespace ParallelNet.Tensors.Tests;

/// <summary>
/// Tensors over memory that is not an array (a transport's mapped region, lent in place) are host tensors the CPU
/// backend reads exactly as arrays; an array window stays a plain host tensor.
/// </summary>
public sealed unsafe class LentHostStorageTests
{
    [Fact]
    public void Kernels_read_weights_in_lent_memory_bitwise_as_in_an_array()
    {
        var random = new System.Random(5);
        float[] Random(int n) => [.. Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5))];
        float[] x = Random(2 * 3 * 6 * 6), weight = Random(4 * 3 * 3 * 3), bias = Random(4), a = Random(5 * 7), b = Random(7 * 3);
        var g = new ConvGeometry(3, 6, 6, 3, 3, 1, 1, 1, 1);
        var compute = new CpuCompute(2);

        float[] Conv(Tensor w, Tensor bs)
        {
            var y = compute.Allocate(new Shape(2, 4, 6, 6));
            compute.Conv2dForward(Tensor.FromArray(x, new Shape(2, 3, 6, 6)), w, bs, y, g, 4);
            return y.Span.ToArray();
        }

        float[] Gemm(Tensor right)
        {
            var c = compute.Allocate(new Shape(5, 3));
            compute.Gemm(false, false, 5, 3, 7, 1f, Tensor.FromArray(a, new Shape(5, 7)), right, 0f, c);
            return c.Span.ToArray();
        }

        using var lentWeight = new Foreign(weight);
        using var lentBias = new Foreign(bias);
        using var lentB = new Foreign(b);
        var weightTensor = Tensor.FromMemory(lentWeight.Memory, new Shape(4, 3, 3, 3));
        Assert.IsType<LentHostStorage>(weightTensor.Storage);
        Assert.True(weightTensor.IsHost);

        Assert.Equal(Conv(Tensor.FromArray(weight, new Shape(4, 3, 3, 3)), Tensor.FromArray(bias, new Shape(4))),
            Conv(weightTensor, Tensor.FromMemory(lentBias.Memory, new Shape(4))));
        Assert.Equal(Gemm(Tensor.FromArray(b, new Shape(7, 3))), Gemm(Tensor.FromMemory(lentB.Memory, new Shape(7, 3))));
        // A view of lent memory reads the same elements as the memory's own window.
        Assert.Equal(bias[1..3], Tensor.FromMemory(lentBias.Memory, new Shape(4)).View(1, new Shape(2)).Span.ToArray());
    }

    [Fact]
    public void An_updated_lent_tensor_matches_an_updated_array_and_an_array_window_stays_a_plain_host_tensor()
    {
        float[] weights = [1f, -2f, 3f, 0.5f], gradients = [0.1f, 0.2f, -0.3f, 0.4f];
        var compute = new CpuCompute(1);
        var expected = Tensor.FromArray([.. weights], new Shape(4));
        compute.SgdStep(expected, Tensor.FromArray(gradients, new Shape(4)), compute.Allocate(new Shape(4)), 0.1f, 0.9f, 0f, false, false);
        using var lent = new Foreign(weights);
        var updated = Tensor.FromMemory(lent.Memory, new Shape(4));
        compute.SgdStep(updated, Tensor.FromArray(gradients, new Shape(4)), compute.Allocate(new Shape(4)), 0.1f, 0.9f, 0f, false, false);
        Assert.Equal(expected.Span.ToArray(), lent.GetSpan().ToArray());

        float[] array = [9f, 1f, 2f, 9f];
        var window = Tensor.FromMemory(array.AsMemory(1, 2), new Shape(2));
        Assert.IsType<HostStorage>(window.Storage);
        Assert.Equal(1, window.Offset);
        Assert.Equal([1f, 2f], window.Span.ToArray());
        Assert.Throws<ArgumentException>(() => Tensor.FromMemory(array.AsMemory(), new Shape(3)));
    }

    /// <summary>Floats in native memory, as a mapped region lends them.</summary>
    private sealed class Foreign : MemoryManager<float>
    {
        private readonly float* _values;
        private readonly int _length;

        public Foreign(float[] values)
        {
            _length = values.Length;
            _values = (float*)NativeMemory.Alloc((nuint)_length, sizeof(float));
            values.CopyTo(new Span<float>(_values, _length));
        }

        public override Span<float> GetSpan() => new(_values, _length);
        public override MemoryHandle Pin(int elementIndex = 0) => new(_values + elementIndex);
        public override void Unpin() { }
        protected override void Dispose(bool disposing) => NativeMemory.Free(_values);
    }
}

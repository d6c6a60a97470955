using ParallelNet.Tensors.OpenCL.Internal;

namespace ParallelNet.Tensors.OpenCL;

/// <summary>
/// Tensor elements in an OpenCL buffer (cl_mem) of one <see cref="OpenClCompute"/>. A tensor's
/// <see cref="Tensor.Offset"/> is the element offset into the buffer, so <see cref="Tensor.View"/>,
/// Rows and Reshape work unchanged; kernels receive the buffer and the offset.
/// </summary>
public sealed class DeviceStorage : TensorStorage
{
    internal DeviceStorage(OpenClCompute owner, DeviceBuffer buffer, int length)
    {
        Owner = owner;
        Buffer = buffer;
        Length = length;
    }

    public override int Length { get; }

    /// <summary>The backend whose context owns the buffer; tensors cannot cross contexts.</summary>
    public OpenClCompute Owner { get; }

    internal DeviceBuffer Buffer { get; }
}

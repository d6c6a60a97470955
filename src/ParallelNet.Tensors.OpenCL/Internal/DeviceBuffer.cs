using System.Runtime.InteropServices;
using ParallelNet.Tensors.OpenCL.Interop;

namespace ParallelNet.Tensors.OpenCL.Internal;

/// <summary>Owns one cl_mem; released when disposed or finalized (tensors have no Dispose, so the GC frees device memory).</summary>
internal sealed class DeviceBuffer : SafeHandle
{
    public DeviceBuffer(nint memory, long bytes) : base(0, true)
    {
        SetHandle(memory);
        Bytes = bytes;
    }

    public long Bytes { get; }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle() => OpenClNative.clReleaseMemObject(handle) == 0;
}

using System.Runtime.InteropServices;

namespace ParallelNet.Tensors.OpenCL.Interop;

/// <summary>The OpenCL 1.2 entry points this backend uses, from the ICD loader (libOpenCL.so.1); nothing more.</summary>
internal static unsafe partial class OpenClNative
{
    private const string Library = "libOpenCL.so.1";

    public const int Success = 0;
    public const int PlatformNotFoundKhr = -1001;
    public const int DeviceNotFound = -1;

    public const ulong DeviceTypeAll = 0xFFFFFFFF;
    public const ulong MemReadWrite = 1 << 0;

    public const uint PlatformName = 0x0902;
    public const uint PlatformVersion = 0x0901;
    public const uint DeviceType = 0x1000;
    public const uint DeviceMaxComputeUnits = 0x1002;
    public const uint DeviceMaxWorkGroupSize = 0x1004;
    public const uint DeviceGlobalMemSize = 0x101F;
    public const uint DeviceName = 0x102B;
    public const uint DeviceVendor = 0x102C;
    public const uint DeviceVersion = 0x102F;
    public const uint DeviceExtensions = 0x1030;
    public const uint ProgramBuildLog = 0x1183;

    [LibraryImport(Library)] public static partial int clGetPlatformIDs(uint numEntries, nint* platforms, uint* numPlatforms);
    [LibraryImport(Library)] public static partial int clGetPlatformInfo(nint platform, uint name, nuint size, void* value, nuint* sizeRet);
    [LibraryImport(Library)] public static partial int clGetDeviceIDs(nint platform, ulong type, uint numEntries, nint* devices, uint* numDevices);
    [LibraryImport(Library)] public static partial int clGetDeviceInfo(nint device, uint name, nuint size, void* value, nuint* sizeRet);

    [LibraryImport(Library)] public static partial nint clCreateContext(nint* properties, uint numDevices, nint* devices, nint notify, nint userData, int* error);
    [LibraryImport(Library)] public static partial int clReleaseContext(nint context);
    [LibraryImport(Library)] public static partial nint clCreateCommandQueue(nint context, nint device, ulong properties, int* error);
    [LibraryImport(Library)] public static partial int clReleaseCommandQueue(nint queue);
    [LibraryImport(Library)] public static partial int clFinish(nint queue);

    [LibraryImport(Library)] public static partial nint clCreateBuffer(nint context, ulong flags, nuint size, void* hostPointer, int* error);
    [LibraryImport(Library)] public static partial int clReleaseMemObject(nint memory);
    [LibraryImport(Library)] public static partial int clEnqueueReadBuffer(nint queue, nint buffer, uint blocking, nuint offset, nuint size, void* destination, uint waitCount, nint* waitList, nint* @event);
    [LibraryImport(Library)] public static partial int clEnqueueWriteBuffer(nint queue, nint buffer, uint blocking, nuint offset, nuint size, void* source, uint waitCount, nint* waitList, nint* @event);
    [LibraryImport(Library)] public static partial int clEnqueueCopyBuffer(nint queue, nint source, nint destination, nuint sourceOffset, nuint destinationOffset, nuint size, uint waitCount, nint* waitList, nint* @event);
    [LibraryImport(Library)] public static partial int clEnqueueFillBuffer(nint queue, nint buffer, void* pattern, nuint patternSize, nuint offset, nuint size, uint waitCount, nint* waitList, nint* @event);

    [LibraryImport(Library)] public static partial nint clCreateProgramWithSource(nint context, uint count, byte** strings, nuint* lengths, int* error);
    [LibraryImport(Library)] public static partial int clBuildProgram(nint program, uint numDevices, nint* devices, byte* options, nint notify, nint userData);
    [LibraryImport(Library)] public static partial int clGetProgramBuildInfo(nint program, nint device, uint name, nuint size, void* value, nuint* sizeRet);
    [LibraryImport(Library)] public static partial int clReleaseProgram(nint program);
    [LibraryImport(Library)] public static partial nint clCreateKernel(nint program, byte* name, int* error);
    [LibraryImport(Library)] public static partial int clReleaseKernel(nint kernel);
    [LibraryImport(Library)] public static partial int clSetKernelArg(nint kernel, uint index, nuint size, void* value);
    [LibraryImport(Library)] public static partial int clEnqueueNDRangeKernel(nint queue, nint kernel, uint dimensions, nuint* globalOffset, nuint* globalSize, nuint* localSize, uint waitCount, nint* waitList, nint* @event);
}

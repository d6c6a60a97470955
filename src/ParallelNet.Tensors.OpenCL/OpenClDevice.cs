using System.Text;
using ParallelNet.Tensors.OpenCL.Internal;
using static ParallelNet.Tensors.OpenCL.Interop.OpenClNative;

namespace ParallelNet.Tensors.OpenCL;

/// <summary>One OpenCL device as the ICD loader reports it. <see cref="Index"/> is its position over all platforms, as in <c>--device opencl:N</c>.</summary>
public sealed record OpenClDevice(int Index, string Platform, string Name, string Vendor, string Version, string Type,
    int ComputeUnits, long GlobalMemoryBytes, bool HasDoublePrecision)
{
    internal nint PlatformHandle { get; init; }
    internal nint DeviceHandle { get; init; }
    internal long MaxWorkGroupSize { get; init; }

    /// <summary>True for GPUs and accelerators, false for CPU devices such as POCL's.</summary>
    public bool IsGpu => Type is "GPU" or "accelerator";

    public override string ToString() => $"opencl:{Index} {Name} ({Type}, {Platform}, {ComputeUnits} compute units, {GlobalMemoryBytes / (1024 * 1024)} MiB)";
}

/// <summary>Enumerates OpenCL devices through the ICD loader.</summary>
public static unsafe class OpenClDevices
{
    /// <summary>
    /// Every device of every platform, in platform then device order. Empty when the loader finds no
    /// platform; throws <see cref="OpenClException"/> (one clear line) when the loader itself is missing.
    /// </summary>
    public static IReadOnlyList<OpenClDevice> Discover()
    {
        try
        {
            return DiscoverCore();
        }
        catch (DllNotFoundException e)
        {
            throw new OpenClException("OpenCL is not available: the ICD loader libOpenCL.so.1 was not found. Install it and a driver "
                + "(Debian: apt-get install ocl-icd-libopencl1 pocl-opencl-icd, or your GPU vendor's OpenCL driver).", 0, e);
        }
    }

    private static List<OpenClDevice> DiscoverCore()
    {
        uint platformCount;
        int status = clGetPlatformIDs(0, null, &platformCount);
        if (status == PlatformNotFoundKhr || platformCount == 0) return [];
        ClStatus.Check(status, "clGetPlatformIDs");
        var platforms = new nint[platformCount];
        fixed (nint* p = platforms) ClStatus.Check(clGetPlatformIDs(platformCount, p, null), "clGetPlatformIDs");

        var devices = new List<OpenClDevice>();
        foreach (var platform in platforms)
        {
            string platformName = PlatformString(platform, PlatformName);
            uint deviceCount;
            status = clGetDeviceIDs(platform, DeviceTypeAll, 0, null, &deviceCount);
            if (status == DeviceNotFound || deviceCount == 0) continue;
            ClStatus.Check(status, "clGetDeviceIDs");
            var handles = new nint[deviceCount];
            fixed (nint* d = handles) ClStatus.Check(clGetDeviceIDs(platform, DeviceTypeAll, deviceCount, d, null), "clGetDeviceIDs");
            foreach (var device in handles)
            {
                string extensions = DeviceString(device, DeviceExtensions);
                devices.Add(new OpenClDevice(devices.Count, platformName, DeviceString(device, DeviceName).Trim(), DeviceString(device, DeviceVendor).Trim(),
                    DeviceString(device, DeviceVersion).Trim(), TypeName(DeviceValue<ulong>(device, DeviceType)),
                    (int)DeviceValue<uint>(device, DeviceMaxComputeUnits), (long)DeviceValue<ulong>(device, DeviceGlobalMemSize),
                    extensions.Contains("cl_khr_fp64", StringComparison.Ordinal))
                {
                    PlatformHandle = platform,
                    DeviceHandle = device,
                    MaxWorkGroupSize = (long)DeviceValue<nuint>(device, DeviceMaxWorkGroupSize),
                });
            }
        }
        return devices;
    }

    private static string TypeName(ulong type) =>
        (type & 4) != 0 ? "GPU" : (type & 8) != 0 ? "accelerator" : (type & 2) != 0 ? "CPU" : "other";

    private static string PlatformString(nint platform, uint name)
    {
        nuint size;
        ClStatus.Check(clGetPlatformInfo(platform, name, 0, null, &size), "clGetPlatformInfo");
        var bytes = new byte[(int)size];
        fixed (byte* b = bytes) ClStatus.Check(clGetPlatformInfo(platform, name, size, b, null), "clGetPlatformInfo");
        return Encoding.UTF8.GetString(bytes).TrimEnd('\0');
    }

    internal static string DeviceString(nint device, uint name)
    {
        nuint size;
        ClStatus.Check(clGetDeviceInfo(device, name, 0, null, &size), "clGetDeviceInfo");
        var bytes = new byte[(int)size];
        fixed (byte* b = bytes) ClStatus.Check(clGetDeviceInfo(device, name, size, b, null), "clGetDeviceInfo");
        return Encoding.UTF8.GetString(bytes).TrimEnd('\0');
    }

    private static T DeviceValue<T>(nint device, uint name) where T : unmanaged
    {
        T value = default;
        ClStatus.Check(clGetDeviceInfo(device, name, (nuint)sizeof(T), &value, null), "clGetDeviceInfo");
        return value;
    }
}

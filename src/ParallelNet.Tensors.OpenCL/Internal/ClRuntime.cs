using System.Text;
using static ParallelNet.Tensors.OpenCL.Interop.OpenClNative;

namespace ParallelNet.Tensors.OpenCL.Internal;

/// <summary>
/// One device's context, in-order command queue and the built kernel program. Commands run in the
/// order they are enqueued, so a scratch buffer can be reused by the next operation without waiting.
/// Not thread-safe: <see cref="OpenClCompute"/> serializes calls.
/// </summary>
internal sealed unsafe class ClRuntime : IDisposable
{
    // Divide and sqrt correctly rounded, as on the CPU (the default allows a few ulps).
    private const string BuildOptions = "-cl-fp32-correctly-rounded-divide-sqrt";

    private readonly Dictionary<string, nint> _kernels = new(StringComparer.Ordinal);
    private readonly int _groupSize;
    private nint _context, _queue, _program;

    public ClRuntime(OpenClDevice device)
    {
        Device = device;
        _groupSize = (int)Math.Min(64, device.MaxWorkGroupSize);
        nint deviceHandle = device.DeviceHandle;
        int error;
        _context = clCreateContext(null, 1, &deviceHandle, 0, 0, &error);
        ClStatus.Check(error, $"clCreateContext({device.Name})");
        _queue = clCreateCommandQueue(_context, deviceHandle, 0, &error);
        ClStatus.Check(error, "clCreateCommandQueue");
        _program = BuildProgram(deviceHandle);
    }

    public OpenClDevice Device { get; }

    /// <summary>Every host-device transfer so far (writes and reads through this runtime).</summary>
    public HostTransfers Transfers { get; private set; } = HostTransfers.None;

    /// <summary>The cl_command_queue, for CLBlast.</summary>
    public nint Queue => _queue;

    public DeviceBuffer CreateBuffer(long bytes)
    {
        int error;
        // OpenCL rejects zero-sized buffers; empty tensors get one element that nothing reads.
        nint memory = clCreateBuffer(_context, MemReadWrite, (nuint)Math.Max(bytes, sizeof(float)), null, &error);
        ClStatus.Check(error, $"clCreateBuffer({bytes} bytes)");
        return new DeviceBuffer(memory, bytes);
    }

    public void Write<T>(DeviceBuffer buffer, long elementOffset, ReadOnlySpan<T> source) where T : unmanaged
    {
        if (source.IsEmpty) return;
        Transfers = Transfers with { Uploads = Transfers.Uploads + 1, UploadedBytes = Transfers.UploadedBytes + (long)source.Length * sizeof(T) };
        fixed (T* s = source)
            ClStatus.Check(clEnqueueWriteBuffer(_queue, buffer.DangerousGetHandle(), 1, (nuint)(elementOffset * sizeof(T)), (nuint)(source.Length * sizeof(T)), s, 0, null, null), "clEnqueueWriteBuffer");
    }

    /// <summary>Blocking read: returns after every command enqueued before it has finished.</summary>
    public void Read<T>(DeviceBuffer buffer, long elementOffset, Span<T> destination) where T : unmanaged
    {
        if (destination.IsEmpty) return;
        Transfers = Transfers with { Downloads = Transfers.Downloads + 1, DownloadedBytes = Transfers.DownloadedBytes + (long)destination.Length * sizeof(T) };
        fixed (T* d = destination)
            ClStatus.Check(clEnqueueReadBuffer(_queue, buffer.DangerousGetHandle(), 1, (nuint)(elementOffset * sizeof(T)), (nuint)(destination.Length * sizeof(T)), d, 0, null, null), "clEnqueueReadBuffer");
    }

    public void Copy(DeviceBuffer source, long sourceOffset, DeviceBuffer destination, long destinationOffset, long count)
    {
        if (count == 0) return;
        ClStatus.Check(clEnqueueCopyBuffer(_queue, source.DangerousGetHandle(), destination.DangerousGetHandle(),
            (nuint)(sourceOffset * sizeof(float)), (nuint)(destinationOffset * sizeof(float)), (nuint)(count * sizeof(float)), 0, null, null), "clEnqueueCopyBuffer");
    }

    public void Fill<T>(DeviceBuffer buffer, long elementOffset, long count, T value) where T : unmanaged
    {
        if (count == 0) return;
        ClStatus.Check(clEnqueueFillBuffer(_queue, buffer.DangerousGetHandle(), &value, (nuint)sizeof(T),
            (nuint)(elementOffset * sizeof(T)), (nuint)(count * sizeof(T)), 0, null, null), "clEnqueueFillBuffer");
    }

    /// <summary>
    /// Enqueues kernel <paramref name="name"/> over <paramref name="globalSize"/> work-items (none when 0). The count
    /// goes in as the kernel's first argument (WORK_ITEMS) and the range is rounded up to whole groups of a fixed size.
    /// </summary>
    public void Launch(string name, long globalSize, params ReadOnlySpan<KernelArg> args)
    {
        if (globalSize == 0) return;
        if (globalSize > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(globalSize), $"{name}: {globalSize} work-items exceed the 2^31 - 1 the kernels index.");
        nint kernel = Kernel(name);
        int workItems = (int)globalSize;
        SetArg(kernel, name, 0, sizeof(int), &workItems);
        uint index = 1;
        foreach (var arg in args)
        {
            long bits = arg.Bits;
            switch (arg.Kind)
            {
                case KernelArg.ArgKind.Int: SetArg(kernel, name, index++, sizeof(int), &bits); break;
                case KernelArg.ArgKind.Float: SetArg(kernel, name, index++, sizeof(float), &bits); break;
                case KernelArg.ArgKind.Long:
                case KernelArg.ArgKind.ULong: SetArg(kernel, name, index++, sizeof(long), &bits); break;
                case KernelArg.ArgKind.Buffer:
                case KernelArg.ArgKind.Tensor:
                    nint memory = arg.Buffer!.DangerousGetHandle();
                    SetArg(kernel, name, index++, (nuint)sizeof(nint), &memory);
                    if (arg.Kind == KernelArg.ArgKind.Tensor)
                    {
                        int offset = (int)bits;
                        SetArg(kernel, name, index++, sizeof(int), &offset);
                    }
                    break;
            }
        }
        nuint local = (nuint)_groupSize;
        nuint global = (nuint)((globalSize + _groupSize - 1) / _groupSize * _groupSize);
        ClStatus.Check(clEnqueueNDRangeKernel(_queue, kernel, 1, null, &global, &local, 0, null, null), $"clEnqueueNDRangeKernel({name}, {globalSize} work-items)");
        foreach (var arg in args) GC.KeepAlive(arg.Buffer);
    }

    public void Finish() => ClStatus.Check(clFinish(_queue), "clFinish");

    public void Dispose()
    {
        foreach (var kernel in _kernels.Values) clReleaseKernel(kernel);
        _kernels.Clear();
        if (_program != 0) clReleaseProgram(_program);
        if (_queue != 0) clReleaseCommandQueue(_queue);
        if (_context != 0) clReleaseContext(_context);
        _program = _queue = _context = 0;
    }

    private static void SetArg(nint kernel, string name, uint index, nuint size, void* value) =>
        ClStatus.Check(clSetKernelArg(kernel, index, size, value), $"clSetKernelArg({name}, argument {index})");

    private nint Kernel(string name)
    {
        ObjectDisposedException.ThrowIf(_program == 0, this);
        if (_kernels.TryGetValue(name, out var kernel)) return kernel;
        int error;
        var bytes = Encoding.ASCII.GetBytes(name + "\0");
        fixed (byte* n = bytes) kernel = clCreateKernel(_program, n, &error);
        ClStatus.Check(error, $"clCreateKernel({name})");
        _kernels[name] = kernel;
        return kernel;
    }

    private nint BuildProgram(nint device)
    {
        var source = Encoding.UTF8.GetBytes(KernelSource() + "\0");
        var options = Encoding.ASCII.GetBytes(BuildOptions + "\0");
        int error;
        nint program;
        fixed (byte* s = source)
        {
            byte* strings = s;
            program = clCreateProgramWithSource(_context, 1, &strings, null, &error);
        }
        ClStatus.Check(error, "clCreateProgramWithSource");
        int status;
        fixed (byte* o = options) status = clBuildProgram(program, 1, &device, o, 0, 0);
        if (status != 0)
        {
            string log = BuildLog(program, device);
            clReleaseProgram(program);
            throw new OpenClException($"clBuildProgram failed with {ClStatus.Describe(status)} on {Device.Name}:\n{log}", status);
        }
        return program;
    }

    private static string BuildLog(nint program, nint device)
    {
        nuint size;
        if (clGetProgramBuildInfo(program, device, ProgramBuildLog, 0, null, &size) != 0) return "(no build log)";
        var bytes = new byte[(int)size];
        fixed (byte* b = bytes) clGetProgramBuildInfo(program, device, ProgramBuildLog, size, b, null);
        return Encoding.UTF8.GetString(bytes).TrimEnd('\0');
    }

    /// <summary>The embedded Kernels/*.cl files, concatenated in name order (00_common.cl first).</summary>
    internal static string KernelSource()
    {
        var assembly = typeof(ClRuntime).Assembly;
        const string prefix = "ParallelNet.Tensors.OpenCL.Kernels.";
        var text = new StringBuilder();
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            text.Append("// ---- ").Append(name[prefix.Length..]).Append('\n').Append(reader.ReadToEnd()).Append('\n');
        }
        return text.ToString();
    }
}

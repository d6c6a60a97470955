using System.Runtime.InteropServices;
using ParallelNet.Tensors.OpenCL.Interop;
using ParallelNet.Tensors.OpenCL.Internal;

namespace ParallelNet.Tensors.OpenCL;

/// <summary>
/// The OpenCL backend: tensors live in device buffers (<see cref="DeviceStorage"/>), GEMM runs in
/// CLBlast, every other operation in the OpenCL C kernels embedded from Kernels/*.cl. Host transfers
/// happen only in Upload/Download and in the operations that return a number to the host (losses,
/// sums, checks). Calls are serialized by a lock; one command queue runs them in order.
///
/// Determinism: every kernel gives the same bits for the same inputs on a given device, and no
/// reduction depends on a work-group or thread count: reductions over samples run in ascending
/// sample order inside one work-item (per column, channel or fixed-size chunk). Against the CPU
/// backend the results agree to float rounding (the tests state the tolerances); dropout and RReLU
/// masks, pooling, col2im and the optimizer updates agree bit for bit.
/// </summary>
public sealed partial class OpenClCompute : ICompute, IDisposable
{
    private const int MaxPartials = 256;

    private readonly ClRuntime _runtime;
    private readonly Lock _sync = new();
    private readonly DeviceBuffer?[] _scratch = new DeviceBuffer?[Enum.GetValues<Scratch>().Length];
    private readonly int _accumulatorBytes;

    /// <summary>Builds the kernels for <paramref name="device"/> (a few seconds the first time on POCL; the driver caches them).</summary>
    public OpenClCompute(OpenClDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        RequireNativeLibrary("libclblast.so.1", "CLBlast", "Debian: apt-get install libclblast1");
        Device = device;
        _accumulatorBytes = device.HasDoublePrecision ? sizeof(double) : sizeof(float);
        _runtime = new ClRuntime(device);
        if (!device.IsGpu) UseDirectGemmOnly(device);
    }

    /// <summary>Fails with one line naming the library and how to install it, before any kernel is built.</summary>
    internal static void RequireNativeLibrary(string library, string name, string install)
    {
        if (!NativeLibrary.TryLoad(library, typeof(OpenClCompute).Assembly, null, out _))
            throw new OpenClException($"{name} is not available: {library} was not found. Install it ({install}).");
    }

    /// <summary>
    /// On CPU devices (POCL) CLBlast's direct GEMM kernel is about as fast as its indirect one (measured:
    /// 4-7 GFLOP/s either way at 128x512x784 and 1024^3), and using it for every size means one GEMM program
    /// to compile instead of two, about 15 s less on a cold kernel cache. GPUs keep CLBlast's tuned choice.
    /// </summary>
    private static unsafe void UseDirectGemmOnly(OpenClDevice device)
    {
        var kernel = "GemmRoutine\0"u8;
        var name = "XGEMM_MIN_INDIRECT_SIZE\0"u8;
        nuint value = nuint.MaxValue / 2;
        fixed (byte* k = kernel)
        fixed (byte* n = name)
        {
            byte* names = n;
            ClStatus.CheckClBlast(ClBlastNative.CLBlastOverrideParameters(device.DeviceHandle, k, ClBlastNative.PrecisionSingle, 1, &names, &value),
                "CLBlastOverrideParameters(GemmRoutine, XGEMM_MIN_INDIRECT_SIZE)");
        }
    }

    /// <summary>The backend on device <paramref name="index"/> of <see cref="OpenClDevices.Discover"/>.</summary>
    public static OpenClCompute Create(int index = 0)
    {
        var devices = OpenClDevices.Discover();
        if (devices.Count == 0)
            throw new OpenClException("No OpenCL platform found: install an OpenCL driver (Debian: apt-get install pocl-opencl-icd for the CPU, or your GPU vendor's driver).");
        if (index < 0 || index >= devices.Count)
            throw new ArgumentException($"OpenCL device {index} does not exist; this machine has {devices.Count} (opencl:0 to opencl:{devices.Count - 1}, see 'parallelnet devices').");
        return new OpenClCompute(devices[index]);
    }

    public OpenClDevice Device { get; }
    public string Name => $"opencl:{Device.Index}({Device.Name})";

    /// <summary>
    /// Host-device transfers since this backend was created: uploads (the input batch, the weights received)
    /// and downloads (the gradient block, and the few numbers losses, sums and checks return). The tests use
    /// it to show that parameters, gradients, activations and optimizer state stay on the device.
    /// </summary>
    public HostTransfers Transfers
    {
        get { lock (_sync) return _runtime.Transfers; }
    }

    /// <summary>Waits until every enqueued command has finished (for timing; results are read with blocking downloads anyway).</summary>
    public void Synchronize()
    {
        lock (_sync) _runtime.Finish();
    }

    public void Dispose()
    {
        lock (_sync)
        {
            foreach (var buffer in _scratch) buffer?.Dispose();
            Array.Clear(_scratch);
            _runtime.Dispose();
        }
    }

    // ---- memory ----
    public Tensor Allocate(Shape shape)
    {
        lock (_sync)
        {
            var buffer = _runtime.CreateBuffer((long)shape.Size * sizeof(float));
            _runtime.Fill(buffer, 0, shape.Size, 0f);
            return new Tensor(new DeviceStorage(this, buffer, shape.Size), 0, shape);
        }
    }

    public void Upload(ReadOnlySpan<float> source, Tensor destination)
    {
        Checks.SameLength("Upload", source.Length, destination.Length, "source", "destination");
        lock (_sync) _runtime.Write(Buffer(destination, "Upload"), destination.Offset, source);
    }

    public void Download(Tensor source, Span<float> destination)
    {
        Checks.SameLength("Download", source.Length, destination.Length, "source", "destination");
        lock (_sync) _runtime.Read(Buffer(source, "Download"), source.Offset, destination);
    }

    public void Fill(Tensor x, float value)
    {
        lock (_sync) _runtime.Fill(Buffer(x, "Fill"), x.Offset, x.Length, value);
    }

    public void Copy(Tensor source, Tensor destination)
    {
        Checks.SameLength("Copy", source.Length, destination.Length, "source", "destination");
        lock (_sync) _runtime.Copy(Buffer(source, "Copy"), source.Offset, Buffer(destination, "Copy"), destination.Offset, source.Length);
    }

    // ---- linear algebra ----
    public void Gemm(bool transposeA, bool transposeB, int m, int n, int k, float alpha, Tensor a, Tensor b, float beta, Tensor c)
    {
        Checks.Gemm(m, n, k, a.Length, b.Length, c.Length);
        lock (_sync) Sgemm(transposeA, transposeB, m, n, k, alpha, Buffer(a, "Gemm"), a.Offset, Buffer(b, "Gemm"), b.Offset, beta, Buffer(c, "Gemm"), c.Offset);
    }

    /// <summary>Row-major CLBlastSgemm on raw buffers; beta = 0 overwrites C even where it held NaN, like the CPU GEMM.</summary>
    private unsafe void Sgemm(bool transposeA, bool transposeB, int m, int n, int k, float alpha,
        DeviceBuffer a, long aOffset, DeviceBuffer b, long bOffset, float beta, DeviceBuffer c, long cOffset)
    {
        if (m == 0 || n == 0) return;
        if (beta == 0f) _runtime.Fill(c, cOffset, (long)m * n, 0f);
        if (k == 0)
        {
            if (beta != 0f && beta != 1f) _runtime.Launch("scale", (long)m * n, c, (int)cOffset, beta);
            return;
        }
        nint queue = _runtime.Queue;
        int status = ClBlastNative.CLBlastSgemm(ClBlastNative.LayoutRowMajor,
            transposeA ? ClBlastNative.TransposeYes : ClBlastNative.TransposeNo,
            transposeB ? ClBlastNative.TransposeYes : ClBlastNative.TransposeNo,
            (nuint)m, (nuint)n, (nuint)k, alpha,
            a.DangerousGetHandle(), (nuint)aOffset, (nuint)(transposeA ? m : k),
            b.DangerousGetHandle(), (nuint)bOffset, (nuint)(transposeB ? k : n),
            beta, c.DangerousGetHandle(), (nuint)cOffset, (nuint)n, &queue, null);
        GC.KeepAlive(a);
        GC.KeepAlive(b);
        GC.KeepAlive(c);
        ClStatus.CheckClBlast(status, $"CLBlastSgemm(m={m}, n={n}, k={k}, transposeA={transposeA}, transposeB={transposeB})");
    }

    // ---- helpers ----

    /// <summary>Scratch buffers, one per role; an operation never uses one role twice at once.</summary>
    private enum Scratch { Partials, Terms, Flag, Columns, Product, Affine, Reduced }

    private DeviceBuffer ScratchBuffer(Scratch role, long bytes)
    {
        var buffer = _scratch[(int)role];
        if (buffer is not null && buffer.Bytes >= bytes) return buffer;
        // Commands already enqueued keep the old buffer alive inside OpenCL until they finish.
        buffer?.Dispose();
        buffer = _runtime.CreateBuffer(Math.Max(bytes, 4096));
        _scratch[(int)role] = buffer;
        return buffer;
    }

    private DeviceBuffer AccumulatorScratch(Scratch role, long count) => ScratchBuffer(role, count * _accumulatorBytes);

    /// <summary>The tensor's buffer, after checking that it lives on this backend.</summary>
    private DeviceBuffer Buffer(Tensor t, string op)
    {
        ArgumentNullException.ThrowIfNull(t);
        if (t.Storage is DeviceStorage device && ReferenceEquals(device.Owner, this)) return device.Buffer;
        string where = t.Storage is DeviceStorage ? "another OpenClCompute" : t.Storage.GetType().Name;
        throw new ArgumentException($"{op}: tensor of shape {t.Shape} lives on {where}, not on {Name}; allocate it with this backend (or Upload host data into such a tensor).");
    }

    /// <summary>The tensor as a kernel argument (buffer + offset), after the ownership check.</summary>
    private KernelArg Arg(Tensor t, string op)
    {
        Buffer(t, op);
        return KernelArg.Of(t);
    }

    /// <summary>Σ of <paramref name="count"/> accumulator terms already in <paramref name="terms"/>: fixed-size chunks on the device, the chunk sums in order on the host.</summary>
    private double SumTerms(DeviceBuffer terms, int count)
    {
        if (count == 0) return 0;
        int chunk = (count + MaxPartials - 1) / MaxPartials;
        int partialCount = (count + chunk - 1) / chunk;
        var partials = AccumulatorScratch(Scratch.Partials, partialCount);
        _runtime.Launch("sum_partials", partialCount, terms, count, chunk, partials);
        return SumOnHost(partials, partialCount);
    }

    private double SumOnHost(DeviceBuffer partials, int count)
    {
        double total = 0;
        if (_accumulatorBytes == sizeof(double))
        {
            var values = new double[count];
            _runtime.Read<double>(partials, 0, values);
            foreach (var v in values) total += v;
        }
        else
        {
            var values = new float[count];
            _runtime.Read<float>(partials, 0, values);
            foreach (var v in values) total += v;
        }
        return total;
    }

    private static int Samples(Tensor x) => x.Shape.Rank == 0 ? 1 : x.Shape[0];
    private static int Columns(Tensor x) => x.Shape.Rank == 0 ? 1 : x.Shape[-1];

    /// <summary>x is [n, channels, inner...]: inner is everything after the channel axis.</summary>
    private static int InnerSize(string op, Tensor x, int channels)
    {
        Checks.Positive(op, "channels", channels);
        int samples = Samples(x);
        if (samples == 0 || x.Length % ((long)samples * channels) != 0)
            throw new ArgumentException($"{op}: tensor {x.Shape} is not [n, {channels}, ...] with n its leading dimension.");
        return x.Length / (samples * channels);
    }
}

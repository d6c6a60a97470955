using System.CommandLine;
using ParallelNet.Tensors;
using ParallelNet.Tensors.OpenCL;

namespace ParallelNet.Cli.Commands;

/// <summary>
/// <c>--device cpu|opencl[:N]|auto</c> (every worker) and, where a command runs several in-process workers,
/// <c>--worker-devices D1,D2,...</c> (one per worker). Any command attaches it in one line:
/// <code>var device = DeviceFlag.AddTo(command);</code>
/// and in its action opens the backends, which it disposes when the run ends:
/// <code>using var backends = device.Open(parse, workers, threadsPerWorker, parse.InvocationConfiguration.Error);</code>
/// then hands <see cref="WorkerBackends.ForWorker"/> to <c>ActorTrainerSettings.WorkerCompute</c> (or takes
/// <c>backends.ForWorker(0)</c> for a single model). A missing OpenCL platform or CLBlast library is one
/// error line; only <c>auto</c> falls back to the CPU, and it says so on <paramref name="notices"/>.
/// </summary>
internal sealed class DeviceFlag
{
    private DeviceFlag(bool perWorker)
    {
        Device = new("--device") { Description = $"Compute device of every worker: {ComputeDevices.Usage} (see 'parallelnet devices').", DefaultValueFactory = _ => "cpu" };
        if (perWorker)
            WorkerDevices = new("--worker-devices") { Description = "One device per worker, comma-separated (e.g. cpu,opencl); sets --workers. Mixed backends agree within a stated tolerance, not bit for bit." };
    }

    public Option<string> Device { get; }
    public Option<string?>? WorkerDevices { get; }

    /// <param name="perWorker">Also add <c>--worker-devices</c> (commands that run several in-process workers).</param>
    public static DeviceFlag AddTo(Command command, bool perWorker = false)
    {
        ArgumentNullException.ThrowIfNull(command);
        var flag = new DeviceFlag(perWorker);
        command.Options.Add(flag.Device);
        if (flag.WorkerDevices is not null) command.Options.Add(flag.WorkerDevices);
        return flag;
    }

    /// <summary>The per-worker device list when <c>--worker-devices</c> was given, else null.</summary>
    public IReadOnlyList<string>? WorkerDeviceList(ParseResult parse)
    {
        if (WorkerDevices is null || parse.GetValue(WorkerDevices) is not { } list) return null;
        if (parse.GetResult(Device) is { Implicit: false })
            throw new UsageException("give either --device (every worker) or --worker-devices (one per worker), not both.");
        var devices = list.Split(',', StringSplitOptions.TrimEntries);
        if (devices.Any(d => d.Length == 0)) throw new UsageException($"--worker-devices needs one device per worker, comma-separated (e.g. cpu,opencl), got '{list}'.");
        return devices;
    }

    /// <summary>
    /// Creates the backends of <paramref name="workers"/> workers: one backend per distinct device (workers on the
    /// same OpenCL device share its context and queue; CPU workers get their own thread pools).
    /// </summary>
    public WorkerBackends Open(ParseResult parse, int workers, int threadsPerWorker, TextWriter notices)
    {
        var devices = WorkerDeviceList(parse) ?? Enumerable.Repeat(parse.GetValue(Device)!, workers).ToList();
        if (devices.Count != workers)
            throw new UsageException($"--worker-devices lists {devices.Count} device(s) but the job has {workers} worker(s); give one per worker.");
        return WorkerBackends.Open(devices, threadsPerWorker, notices);
    }
}

/// <summary>The opened backends of a job's workers; disposing releases the OpenCL contexts.</summary>
internal sealed class WorkerBackends : IDisposable
{
    private readonly ICompute[] _perWorker;

    private WorkerBackends(ICompute[] perWorker) => _perWorker = perWorker;

    public static WorkerBackends Open(IReadOnlyList<string> devices, int threadsPerWorker, TextWriter notices)
    {
        var perWorker = new ICompute[devices.Count];
        var shared = new Dictionary<string, ICompute>(StringComparer.Ordinal);
        try
        {
            for (int i = 0; i < devices.Count; i++)
            {
                string key = Normalize(devices[i]);
                if (key == "cpu" || !shared.TryGetValue(key, out var compute))
                {
                    compute = ComputeDevices.Create(key, threadsPerWorker, notices.WriteLine);
                    if (key != "cpu") shared[key] = compute;
                }
                perWorker[i] = compute;
            }
        }
        catch
        {
            foreach (var compute in perWorker.Distinct()) (compute as IDisposable)?.Dispose();
            throw;
        }
        return new WorkerBackends(perWorker);
    }

    public int Count => _perWorker.Length;

    /// <summary>For <c>ActorTrainerSettings.WorkerCompute</c>.</summary>
    public ICompute ForWorker(int worker) => _perWorker[worker];

    /// <summary>"cpu" when every worker is on the CPU, else each worker's backend name.</summary>
    public string Describe() => _perWorker.All(c => c is Tensors.Cpu.CpuCompute) ? "cpu" : string.Join(", ", _perWorker.Select(c => c.Name));

    public void Dispose()
    {
        foreach (var compute in _perWorker.Distinct()) (compute as IDisposable)?.Dispose();
    }

    private static string Normalize(string device)
    {
        string value = device.Trim().ToLowerInvariant();
        return value == "opencl" ? "opencl:0" : value;
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using ParallelNet.Cli.Bench.Protos;
using ParallelNet.Rpc;

namespace ParallelNet.Cli.Bench;

/// <summary>What `bench grpc` measures: message sizes in MiB, bytes per streaming measurement, timed unary calls per size.</summary>
public sealed record RpcBenchmarkOptions(IReadOnlyList<int> SizesMiB, int TotalMiB = 512, int UnaryCalls = 8, bool Json = false,
    string Python = "/usr/bin/python3", string Protoc = "/usr/bin/protoc", bool MeasureGrpcio = true,
    GrpcClientTransport Transport = GrpcClientTransport.Native, GrpcServerTransport ServerTransport = GrpcServerTransport.Http2);

/// <summary>
/// `parallelnet bench grpc`: unary latency and streaming throughput on loopback between two ParallelNet
/// processes (this one the client, a child `bench grpc-server` the server), and the same calls between two
/// python grpcio processes, side by side.
/// </summary>
public static class RpcBenchmark
{
    public static int Run(RpcBenchmarkOptions options, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.SizesMiB.Count == 0 || options.SizesMiB.Any(s => s is <= 0 or > RpcBenchService.MessageLimit / (1024 * 1024)))
            throw new UsageException($"--sizes must list message sizes between 1 and {RpcBenchService.MessageLimit / (1024 * 1024)} MiB.");
        if (options.TotalMiB <= 0 || options.UnaryCalls <= 0)
            throw new UsageException("--total-mib and --unary-calls must be positive.");

        var ours = MeasureOurs(options);
        var (peer, peerError) = options.MeasureGrpcio ? MeasureGrpcio(options) : ([], "grpcio not measured (--no-grpcio).");
        var rows = ours.Select(o =>
        {
            var p = peer.FirstOrDefault(p => p.Call == o.Call && p.SizeMiB == o.SizeMiB);
            return new Row(o.Call, o.SizeMiB, o.Value, o.Unit, p?.Value, o.CpuSecondsPerGB, p?.CpuSecondsPerGB);
        }).ToList();
        if (options.Json)
            foreach (var row in rows) output.WriteLine(JsonSerializer.Serialize(row));
        else
            PrintTable(rows, options, peerError, output);
        return ExitCodes.Success;
    }

    /// <summary>CpuSecondsPerGB: CPU time of client and server together per GB of payload, which a loaded machine distorts far less than wall time.</summary>
    private sealed record Measurement(string Call, int SizeMiB, double Value, string Unit, double? CpuSecondsPerGB = null);

    private sealed record Row(string Call, int SizeMiB, double ParallelNet, string Unit, double? Grpcio, double? CpuSecondsPerGB, double? GrpcioCpuSecondsPerGB)
    {
        /// <summary>How many times faster ParallelNet is: throughput ratio, or the inverse latency ratio.</summary>
        public double? Speedup => Grpcio is not { } peer || peer <= 0 || ParallelNet <= 0 ? null
            : Unit == "ms" ? peer / ParallelNet : ParallelNet / peer;
    }

    private static List<Measurement> MeasureOurs(RpcBenchmarkOptions options)
    {
        using var server = StartOurServer(options.ServerTransport);
        try
        {
            var port = ReadPort(server, "ParallelNet bench grpc-server");
            using var client = new GrpcClient(new Uri($"http://127.0.0.1:{port}"), new GrpcClientOptions { MaxReceiveMessageSize = RpcBenchService.MessageLimit, Transport = options.Transport });
            TimeSpan BothProcessesCpu()
            {
                server.Refresh();
                return Process.GetCurrentProcess().TotalProcessorTime + server.TotalProcessorTime;
            }
            return MeasureWithOurClient(client, options, BothProcessesCpu).GetAwaiter().GetResult();
        }
        finally
        {
            server.StandardInput.Close();
            if (!server.WaitForExit(TimeSpan.FromSeconds(20))) server.Kill(entireProcessTree: true);
        }
    }

    private static async Task<List<Measurement>> MeasureWithOurClient(GrpcClient client, RpcBenchmarkOptions options, Func<TimeSpan> cpu)
    {
        var results = new List<Measurement>();
        var timeout = TimeSpan.FromMinutes(10);
        // Warm-up pass so that the timed calls run optimized code on both sides, as grpcio's C core does from the start.
        foreach (var sizeMiB in options.SizesMiB)
        {
            var warm = new Payload { Data = UnsafeByteOperations.UnsafeWrap(new byte[sizeMiB * 1024 * 1024]) };
            var rounds = Math.Max(4, 64 / sizeMiB);
            for (var i = 0; i < rounds; i++) await client.AsyncUnaryCall(RpcBenchService.Unary, warm, CallOptions.WithTimeout(timeout));
            await DownloadAsync(client, warm.Data.Length, rounds, timeout);
            await UploadAsync(client, warm, rounds, timeout);
        }
        await SettleAsync(cpu);
        foreach (var sizeMiB in options.SizesMiB)
        {
            var size = sizeMiB * 1024 * 1024;
            var payload = new Payload { Data = UnsafeByteOperations.UnsafeWrap(new byte[size]) };
            var count = Math.Max(2, options.TotalMiB / sizeMiB);

            await client.AsyncUnaryCall(RpcBenchService.Unary, payload, CallOptions.WithTimeout(timeout));
            var times = new List<double>();
            for (var i = 0; i < options.UnaryCalls; i++)
            {
                var start = Stopwatch.GetTimestamp();
                await client.AsyncUnaryCall(RpcBenchService.Unary, payload, CallOptions.WithTimeout(timeout));
                times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
            times.Sort();
            results.Add(new Measurement("unary", sizeMiB, times[times.Count / 2], "ms"));

            await DownloadAsync(client, size, 1, timeout);
            var (downloadStart, downloadCpu) = (Stopwatch.GetTimestamp(), cpu());
            var received = await DownloadAsync(client, size, count, timeout);
            results.Add(new Measurement("server_stream", sizeMiB, received / Stopwatch.GetElapsedTime(downloadStart).TotalSeconds / 1e6, "MB/s",
                (cpu() - downloadCpu).TotalSeconds / (received / 1e9)));

            await UploadAsync(client, payload, 1, timeout);
            var (uploadStart, uploadCpu) = (Stopwatch.GetTimestamp(), cpu());
            var sent = await UploadAsync(client, payload, count, timeout);
            results.Add(new Measurement("client_stream", sizeMiB, sent / Stopwatch.GetElapsedTime(uploadStart).TotalSeconds / 1e6, "MB/s",
                (cpu() - uploadCpu).TotalSeconds / (sent / 1e9)));
        }
        return results;
    }

    /// <summary>
    /// Waits until both processes sit idle, i.e. the tiered JIT has finished recompiling what the warm-up made hot
    /// (on a loaded machine that takes many seconds); otherwise the timed calls would pay for it and run slower code.
    /// </summary>
    private static async Task SettleAsync(Func<TimeSpan> cpu)
    {
        var probe = TimeSpan.FromMilliseconds(250);
        var giveUp = Stopwatch.StartNew();
        var before = cpu();
        while (giveUp.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(probe);
            var now = cpu();
            // Idle processes still tick (timers, the GC's and the runtime's own threads) a few milliseconds per probe.
            if (now - before < probe / 25) return;
            before = now;
        }
    }

    private static async Task<long> DownloadAsync(GrpcClient client, int size, int count, TimeSpan timeout)
    {
        using var call = client.AsyncServerStreamingCall(RpcBenchService.Download, new DownloadRequest { Size = size, Count = count }, CallOptions.WithTimeout(timeout));
        long bytes = 0;
        while (await call.ResponseStream.MoveNext(default)) bytes += call.ResponseStream.Current.Data.Length;
        return bytes;
    }

    private static async Task<long> UploadAsync(GrpcClient client, Payload payload, int count, TimeSpan timeout)
    {
        using var call = client.AsyncClientStreamingCall(RpcBenchService.Upload, CallOptions.WithTimeout(timeout));
        for (var i = 0; i < count; i++) await call.RequestStream.WriteAsync(payload);
        await call.RequestStream.CompleteAsync();
        return (await call).Bytes;
    }

    /// <summary>The server runs in a second ParallelNet process, so both sides pay for real loopback I/O and their own GC.</summary>
    private static Process StartOurServer(GrpcServerTransport transport)
    {
        var apphost = Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "parallelnet.exe" : "parallelnet");
        var start = File.Exists(apphost) ? new ProcessStartInfo(apphost) : new ProcessStartInfo("dotnet") { ArgumentList = { Path.Combine(AppContext.BaseDirectory, "parallelnet.dll") } };
        foreach (var argument in new[] { "bench", "grpc-server", "--port", "0", "--server-transport", transport.ToString() }) start.ArgumentList.Add(argument);
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        start.UseShellExecute = false;
        return Process.Start(start) ?? throw new InvalidOperationException("Could not start the ParallelNet benchmark server process.");
    }

    private static int ReadPort(Process process, string what)
    {
        var line = process.StandardOutput.ReadLine();
        if (line is null || !line.StartsWith("PORT ", StringComparison.Ordinal))
            throw new InvalidOperationException($"{what} did not report its port (it printed '{line}').");
        return int.Parse(line.AsSpan(5), CultureInfo.InvariantCulture);
    }

    private static (List<Measurement> Results, string? Error) MeasureGrpcio(RpcBenchmarkOptions options)
    {
        if (!File.Exists(options.Python) || !File.Exists(options.Protoc))
            return ([], $"grpcio not measured: needs {options.Python} with python3-grpcio and {options.Protoc} (bash .ci/setup.sh)");
        var stubs = Path.Combine(Path.GetTempPath(), "pn-bench-stubs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(stubs);
        try
        {
            var protoc = Run(options.Protoc, ["--python_out=" + stubs, "-I", Path.Combine(AppContext.BaseDirectory, "Bench", "Protos"), "parallelnet/bench/v1/bench.proto"]);
            if (protoc.ExitCode != 0) return ([], "grpcio not measured: protoc failed: " + protoc.Output.Trim());
            var script = Path.Combine(AppContext.BaseDirectory, "Bench", "grpcio_peer.py");
            var serverStart = new ProcessStartInfo(options.Python) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var argument in new[] { script, "server", "--stubs", stubs }) serverStart.ArgumentList.Add(argument);
            using var server = Process.Start(serverStart)!;
            try
            {
                var port = ReadPort(server, "The grpcio peer server");
                var sizes = string.Join(",", options.SizesMiB.Select(s => s.ToString(CultureInfo.InvariantCulture)));
                var client = Run(options.Python, [script, "client", "--stubs", stubs, "--port", port.ToString(CultureInfo.InvariantCulture), "--sizes", sizes,
                    "--total-mib", options.TotalMiB.ToString(CultureInfo.InvariantCulture), "--unary-calls", options.UnaryCalls.ToString(CultureInfo.InvariantCulture),
                    "--server-pid", server.Id.ToString(CultureInfo.InvariantCulture)]);
                if (client.ExitCode != 0) return ([], "grpcio client failed: " + client.Output.Trim().Split('\n').LastOrDefault());
                var results = client.Output.Split('\n').Where(l => l.StartsWith('{')).Select(l =>
                {
                    var e = JsonDocument.Parse(l).RootElement;
                    var cpuPerGB = e.TryGetProperty("cpu_s_per_gb", out var c) && c.ValueKind == JsonValueKind.Number ? c.GetDouble() : (double?)null;
                    return new Measurement(e.GetProperty("call").GetString()!, e.GetProperty("size_mib").GetInt32(), e.GetProperty("value").GetDouble(), e.GetProperty("unit").GetString()!, cpuPerGB);
                }).ToList();
                return (results, null);
            }
            finally
            {
                server.StandardInput.Close();
                if (!server.WaitForExit(TimeSpan.FromSeconds(20))) server.Kill(entireProcessTree: true);
            }
        }
        finally
        {
            Directory.Delete(stubs, recursive: true);
        }
    }

    private static (int ExitCode, string Output) Run(string program, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }

    private static void PrintTable(List<Row> rows, RpcBenchmarkOptions options, string? peerError, TextWriter output)
    {
        output.WriteLine($"bench grpc: loopback h2c, client and server in separate processes; {options.TotalMiB} MiB per streaming figure, median of {options.UnaryCalls} unary calls");
        output.WriteLine($"{"call",-14} {"size",7} {"ParallelNet",13} {"grpcio",13} {"speedup",8} {"CPU s/GB",9} {"grpcio",7}");
        foreach (var r in rows)
        {
            var peer = r.Grpcio is { } g ? Format(g, r.Unit) : "-";
            output.WriteLine($"{r.Call,-14} {r.SizeMiB + " MiB",7} {Format(r.ParallelNet, r.Unit),13} {peer,13} {(r.Speedup is { } s ? s.ToString("F2", CultureInfo.InvariantCulture) + "x" : "-"),8}"
                + $" {Cpu(r.CpuSecondsPerGB),9} {Cpu(r.GrpcioCpuSecondsPerGB),7}");
        }
        output.WriteLine("unary: one message of the size up, a small ack back (lower is better); streams: MB/s of payload (higher is better); speedup > 1: ParallelNet faster;");
        output.WriteLine("CPU s/GB: CPU seconds of client and server together per GB streamed (lower is better; little affected by other load on the machine).");
        if (peerError is not null) output.WriteLine(peerError);
    }

    private static string Cpu(double? secondsPerGB) => secondsPerGB is { } v ? v.ToString("F2", CultureInfo.InvariantCulture) : "-";

    private static string Format(double value, string unit) =>
        unit == "ms" ? value.ToString("F2", CultureInfo.InvariantCulture) + " ms" : value.ToString("N0", CultureInfo.InvariantCulture) + " MB/s";
}

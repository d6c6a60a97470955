using System.Diagnostics;

namespace ParallelNet.Rpc.Tests.Interop;

/// <summary>
/// Runs Interop/grpc_peer.py with Debian's python3-grpcio. Its protobuf modules are generated at test
/// time by Debian's /usr/bin/protoc (Grpc.Tools' protoc emits Python that python3-protobuf 3.21 cannot import).
/// </summary>
internal static class PythonPeer
{
    public const string Python = "/usr/bin/python3";
    public const string Protoc = "/usr/bin/protoc";

    public static string Script => Path.Combine(AppContext.BaseDirectory, "Interop", "grpc_peer.py");

    /// <summary>Generates the python stubs into a new temporary folder and returns it.</summary>
    public static string GenerateStubs()
    {
        if (!File.Exists(Python) || !File.Exists(Protoc))
            throw new InvalidOperationException($"The interop tests need {Python} with python3-grpcio and {Protoc} (protobuf-compiler): run .ci/setup.sh.");
        var directory = Path.Combine(Path.GetTempPath(), "pn-rpc-stubs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var protos = Path.Combine(AppContext.BaseDirectory, "Protos");
        var (exit, output) = Run(Protoc, ["--python_out=" + directory, "-I", protos,
            "parallelnet/test/v1/test_service.proto", "grpc/health/v1/health.proto", "grpc/reflection/v1/reflection.proto"], TimeSpan.FromSeconds(60));
        if (exit != 0) throw new InvalidOperationException($"protoc failed ({exit}): {output}");
        return directory;
    }

    public static Process Start(params string[] arguments)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        start.ArgumentList.Add(Script);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        return Process.Start(start) ?? throw new InvalidOperationException("Could not start " + Python);
    }

    public static (int ExitCode, string Output) Run(string program, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start " + program);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} did not finish within {timeout}.");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}

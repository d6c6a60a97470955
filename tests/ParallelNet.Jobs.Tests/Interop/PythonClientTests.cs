using System.Diagnostics;
using System.Text.Json;

namespace ParallelNet.Jobs.Tests.Interop;

/// <summary>A python grpcio client, with stubs protoc generates from our jobs.proto, submits and watches a job.</summary>
public sealed class PythonClientTests
{
    private const string Python = "/usr/bin/python3";
    private const string Protoc = "/usr/bin/protoc";
    private const string Token = "python-admin-token";

    [Fact]
    public async Task A_grpcio_client_submits_watches_and_gets_the_trainers_weights()
    {
        if (!File.Exists(Python) || !File.Exists(Protoc))
            throw new InvalidOperationException($"The interop test needs {Python} with python3-grpcio and {Protoc} (protobuf-compiler): run .ci/setup.sh.");
        await using var server = await TestJobServer.StartAsync(configure: s => s.Tokens.Add(new JobToken(Token, JobTokenRole.Admin)));
        var stubs = Directory.CreateTempSubdirectory("pn-jobs-stubs-").FullName;
        try
        {
            var (protocExit, protocOutput) = Run(Protoc, ["--python_out=" + stubs, "-I", Path.Combine(AppContext.BaseDirectory, "Protos"), "parallelnet/v1/jobs.proto"]);
            Assert.True(protocExit == 0, protocOutput);
            var spec = JobTestExtensions.TinySpirals(seed: 9);
            var specJson = Google.Protobuf.JsonFormatter.Default.Format(spec.ToProto());

            var (exit, output) = await Task.Run(() => Run(Python, [Path.Combine(AppContext.BaseDirectory, "Interop", "jobs_client.py"),
                "--stubs", stubs, "--port", server.Server.Server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--token", Token, "--spec", specJson]));
            Assert.True(exit == 0, output);
            var report = JsonDocument.Parse(output.Split('\n').Last(l => l.StartsWith('{'))).RootElement;

            Assert.Equal("JOB_STATE_SUCCEEDED", report.GetProperty("state").GetString());
            Assert.Equal("JOB_STATE_SUCCEEDED", report.GetProperty("stored_state").GetString());
            var kinds = report.GetProperty("kinds").EnumerateArray().Select(k => k.GetString()).ToList();
            Assert.Equal("state", kinds[0]);
            Assert.Contains("step", kinds);
            Assert.Contains("epoch", kinds);
            Assert.Equal("result", kinds[^1]);
            Assert.Equal(JobTestExtensions.ExpectedWeights(spec), report.GetProperty("result").GetProperty("weights_sha256").GetString());
            var errors = report.GetProperty("errors");
            Assert.Equal("NOT_FOUND", errors.GetProperty("unknown_id").GetProperty("code").GetString());
            Assert.Equal("INVALID_ARGUMENT", errors.GetProperty("invalid_spec").GetProperty("code").GetString());
            Assert.Contains("batch_size", errors.GetProperty("invalid_spec").GetProperty("details").GetString());
            Assert.Equal("UNAUTHENTICATED", errors.GetProperty("no_token").GetProperty("code").GetString());
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
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start " + program);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} did not finish within 5 minutes.");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}

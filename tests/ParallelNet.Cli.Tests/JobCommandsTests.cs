using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace ParallelNet.Cli.Tests;

/// <summary>`parallelnet serve` as a real process and the client commands against it.</summary>
public sealed partial class JobCommandsTests : IDisposable
{
    private readonly string _state = Directory.CreateTempSubdirectory("pn-serve-").FullName;

    public void Dispose() => Directory.Delete(_state, recursive: true);

    private static string ExampleJob => Path.Combine(Testing.TestData.RepositoryRoot(), "cluster-config", "jobs", "spirals-mlp.yaml");

    /// <summary>train's flags for the example job file, so the two must give the same weights.</summary>
    private static readonly string[] ExampleAsTrainFlags = ["--model", "mlp", "--data", "spirals", "--epochs", "2", "--batch-size", "32", "--optimizer", "sgd", "--lr", "0.05", "--seed", "3", "--workers", "2", "--virtual-shards", "4"];

    [Theory]
    [InlineData("Http2")]
    [InlineData("Kestrel")]
    public void Submit_watch_status_jobs_download_and_errors_follow_the_service(string serverTransport)
    {
        using var serve = ServeProcess.Start(_state, "--server-transport", serverTransport);
        var server = serve.Address;

        var submitted = CliRunner.Run("submit", ExampleJob, "--server", server, "--watch", "--json");
        Assert.True(submitted.ExitCode == 0, submitted.Error + submitted.Output);
        var id = submitted.JsonLines[0].GetProperty("id").GetString()!;
        Assert.Contains(submitted.JsonLines, l => l.GetProperty("event").GetString() == "epoch");
        var trained = CliRunner.Run(["train", .. ExampleAsTrainFlags, "--json"]);
        Assert.Equal(0, trained.ExitCode);
        Assert.Equal(trained.Summary.GetProperty("weights_sha256").GetString(), submitted.Summary.GetProperty("weights_sha256").GetString());
        Assert.Equal(trained.Summary.GetProperty("steps").GetInt64(), submitted.Summary.GetProperty("steps").GetInt64());

        var status = CliRunner.Run("status", id, "--server", server);
        Assert.Equal(0, status.ExitCode);
        Assert.Contains("succeeded", status.Output);
        Assert.Contains("spirals smoke test", CliRunner.Run("jobs", "--server", server).Output);

        var checkpoint = Path.Combine(_state, "downloaded.safetensors");
        Assert.Equal(0, CliRunner.Run("download", id, "-o", checkpoint, "--server", server).ExitCode);
        var eval = CliRunner.Run("eval", "--checkpoint", checkpoint, "--data", "spirals");
        Assert.True(eval.ExitCode == 0, eval.Error);

        var unknown = CliRunner.Run("status", "job-000000000000", "--server", server);
        Assert.Equal(15, unknown.ExitCode);
        Assert.Contains("NOT_FOUND", unknown.Error);
        var cancelDone = CliRunner.Run("cancel", id, "--server", server);
        Assert.Equal(19, cancelDone.ExitCode);

        Assert.Equal(0, serve.Terminate(Signal.Term));
    }

    [Fact]
    public void Client_commands_report_an_unreachable_server_as_unavailable()
    {
        var run = CliRunner.Run("jobs", "--server", "127.0.0.1:1");
        Assert.Equal(24, run.ExitCode);
        Assert.Contains("UNAVAILABLE", run.Error);
    }

    [Theory]
    [Trait("Category", "Slow")]
    [InlineData(Signal.Kill)]
    [InlineData(Signal.Term)]
    public void After_the_server_is_killed_queued_jobs_remain_and_the_running_one_resumes_from_its_checkpoint(Signal signal)
    {
        string[] longJob = ["--model", "mlp", "--data", "spirals", "--epochs", "30", "--batch-size", "32", "--seed", "4"];
        string runningId, queuedId;
        using (var serve = ServeProcess.Start(_state))
        {
            runningId = CliRunner.Run(["submit", .. longJob, "--checkpoint-every", "5", "--server", serve.Address]).Output.Trim();
            queuedId = CliRunner.Run("submit", ExampleJob, "--server", serve.Address).Output.Trim();
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
            while (Number(Status(serve.Address, runningId), "step") < 20)
            {
                Assert.True(DateTime.UtcNow < deadline, "the job did not reach step 20");
                Thread.Sleep(200);
            }
            var exit = serve.Terminate(signal);
            if (signal == Signal.Term) Assert.Equal(0, exit);
        }

        using var restarted = ServeProcess.Start(_state);
        var watched = CliRunner.Run("watch", runningId, "--server", restarted.Address, "--json");
        Assert.True(watched.ExitCode == 0, watched.Error);
        var trained = CliRunner.Run(["train", .. longJob, "--json"]);
        Assert.Equal(trained.Summary.GetProperty("weights_sha256").GetString(), watched.Summary.GetProperty("weights_sha256").GetString());
        var resumed = Status(restarted.Address, runningId);
        Assert.Equal(1, Number(resumed, "resumes"));
        Assert.Equal(0, CliRunner.Run("watch", queuedId, "--server", restarted.Address).ExitCode);
        Assert.Equal(0, restarted.Terminate(Signal.Term));
    }

    private static JsonElement Status(string server, string id)
    {
        var run = CliRunner.Run("status", id, "--server", server, "--json");
        Assert.True(run.ExitCode == 0, run.Error);
        return JsonDocument.Parse(run.Output).RootElement.Clone();
    }

    /// <summary>A number of protobuf JSON: int64 fields are strings, and fields at their default are left out.</summary>
    private static long Number(JsonElement job, string field) =>
        !job.TryGetProperty(field, out var value) ? 0
        : value.ValueKind == JsonValueKind.String ? long.Parse(value.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : value.GetInt64();

    public enum Signal { Kill = 9, Term = 15 }

    /// <summary>A `parallelnet serve --port 0` child process; its address is read from its first line.</summary>
    private sealed partial class ServeProcess : IDisposable
    {
        private readonly Process _process;

        private ServeProcess(Process process, string address)
        {
            _process = process;
            Address = address;
        }

        public string Address { get; }

        public static ServeProcess Start(string stateDirectory, params string[] options)
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in (string[])[Path.Combine(AppContext.BaseDirectory, "parallelnet.dll"), "serve", "--port", "0", "--state-dir", stateDirectory, .. options])
                start.ArgumentList.Add(a);
            var process = Process.Start(start)!;
            var first = process.StandardOutput.ReadLineAsync();
            if (!first.Wait(TimeSpan.FromMinutes(1)) || first.Result is null)
            {
                process.Kill(entireProcessTree: true);
                throw new InvalidOperationException("serve did not start: " + process.StandardError.ReadToEnd());
            }
            var match = ListeningLine().Match(first.Result);
            Assert.True(match.Success, first.Result);
            return new ServeProcess(process, "127.0.0.1:" + match.Groups[1].Value);
        }

        /// <summary>Sends the signal and returns the exit code.</summary>
        public int Terminate(Signal signal)
        {
            Assert.Equal(0, kill(_process.Id, (int)signal));
            Assert.True(_process.WaitForExit(TimeSpan.FromMinutes(1)), "serve did not exit after the signal");
            return _process.ExitCode;
        }

        public void Dispose()
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.Dispose();
        }

        [System.Text.RegularExpressions.GeneratedRegex(@"listening on [^ ]*:(\d+)")]
        private static partial System.Text.RegularExpressions.Regex ListeningLine();

        [LibraryImport("libc", SetLastError = true)]
        private static partial int kill(int pid, int signal);
    }
}

using System.Diagnostics;
using System.Text.Json;

namespace ParallelNet.Cli.Tests;

/// <summary>Runs the real `parallelnet` executable (built next to the tests) as a child process.</summary>
internal static class CliRunner
{
    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public IReadOnlyList<JsonElement> JsonLines => Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l.TrimStart().StartsWith('{'))
            .Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

        public JsonElement Summary => JsonLines.Last(l => l.GetProperty("event").GetString() == "summary");
    }

    public static Result Run(params string[] args) => Run(TimeSpan.FromMinutes(10), args);

    public static Result Run(TimeSpan timeout, params string[] args) => Run(timeout, new Dictionary<string, string>(), args);

    /// <param name="environment">Variables set for the child only (e.g. OCL_ICD_VENDORS to hide the OpenCL drivers).</param>
    public static Result Run(TimeSpan timeout, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (name, value) in environment) start.Environment[name] = value;
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "parallelnet.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["NO_COLOR"] = "1";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"parallelnet {string.Join(' ', args)} did not finish within {timeout}.");
        }
        return new Result(process.ExitCode, output.Result, error.Result);
    }
}

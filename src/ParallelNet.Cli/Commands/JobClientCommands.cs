using System.CommandLine;
using System.Globalization;
using Google.Protobuf;
using ParallelNet.Cli.Output;
using ParallelNet.Jobs;
using ParallelNet.Jobs.V1;

namespace ParallelNet.Cli.Commands;

/// <summary>The gRPC client commands of the job service: submit, status, watch, cancel, jobs, download.</summary>
internal static class JobClientCommands
{
    private const string DefaultServer = "127.0.0.1:50051";

    /// <summary>--server, --token and --json, shared by every client command.</summary>
    private sealed class ConnectionFlags
    {
        public Option<string?> Server { get; } = new("--server") { Description = $"Job server host:port (default $PARALLELNET_SERVER or {DefaultServer})." };
        public Option<string?> Token { get; } = new("--token") { Description = "Bearer token (default $PARALLELNET_TOKEN)." };
        public Option<bool> Json { get; } = new("--json") { Description = "Print JSON lines instead of text." };

        public void AddTo(Command command)
        {
            command.Options.Add(Server);
            command.Options.Add(Token);
            command.Options.Add(Json);
        }

        public JobServiceClient Connect(ParseResult parse) => new(
            parse.GetValue(Server) ?? Environment.GetEnvironmentVariable("PARALLELNET_SERVER") ?? DefaultServer,
            parse.GetValue(Token) ?? Environment.GetEnvironmentVariable("PARALLELNET_TOKEN"));
    }

    public static Command Submit()
    {
        var connection = new ConnectionFlags();
        var flags = new TrainingFlags();
        var jobFile = new Argument<FileInfo?>("job.yaml") { Description = "A YAML job file (keys as in jobs.proto's JobSpec); flags given override it.", Arity = ArgumentArity.ZeroOrOne };
        var workers = new Option<int?>("--workers") { Description = $"Worker actors (default {TrainingJobSpec.Defaults.Workers})." };
        var checkpointEvery = new Option<long?>("--checkpoint-every") { Description = "Checkpoint every K steps on the server (default: at epoch ends)." };
        var name = new Option<string?>("--name") { Description = "A name shown by `parallelnet jobs`." };
        var watch = new Option<bool>("--watch") { Description = "Follow the job until it ends (exit code from its outcome)." };
        var command = new Command("submit", "Queue a training job on a job server (same model/data/hyperparameter flags as train).") { jobFile, workers, checkpointEvery, name, watch };
        foreach (var option in flags.All) command.Options.Add(option);
        connection.AddTo(command);
        command.SetAction(async (parse, cancellation) =>
        {
            TrainingJobSpec? fromFile = null;
            if (parse.GetValue(jobFile) is { } file)
            {
                if (!file.Exists) throw new UsageException($"job file '{file.FullName}' does not exist.");
                fromFile = TrainingJobSpec.ParseYaml(File.ReadAllText(file.FullName), file.DirectoryName);
            }
            var spec = flags.ReadSpec(parse, fromFile);
            if (parse.GetValue(workers) is { } w) spec = spec with { Workers = w };
            if (parse.GetValue(checkpointEvery) is { } k) spec = spec with { CheckpointEvery = k };
            if (parse.GetValue(name) is { } n) spec = spec with { Name = n };
            spec.Validate();
            using var client = connection.Connect(parse);
            var job = await client.SubmitAsync(spec, cancellation);
            var output = parse.InvocationConfiguration.Output;
            bool json = parse.GetValue(connection.Json);
            if (json) JsonLinesObserver.Write(output, "submitted", new { job.Id, State = JobManager.StateName(job.State), job.QueuePosition });
            else output.WriteLine(job.Id);
            return parse.GetValue(watch) ? await JobWatchPrinter.FollowAsync(client, job.Id, output, json, cancellation) : ExitCodes.Success;
        });
        return command;
    }

    public static Command Status()
    {
        var connection = new ConnectionFlags();
        var id = new Argument<string>("ID") { Description = "The job id." };
        var command = new Command("status", "Show one job: state, progress, result.") { id };
        connection.AddTo(command);
        command.SetAction(async (parse, cancellation) =>
        {
            using var client = connection.Connect(parse);
            var job = await client.GetAsync(parse.GetValue(id)!, cancellation);
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(connection.Json)) output.WriteLine(JsonFormatter.Default.Format(job));
            else JobWatchPrinter.Describe(job, output);
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Watch()
    {
        var connection = new ConnectionFlags();
        var id = new Argument<string>("ID") { Description = "The job id." };
        var command = new Command("watch", "Follow a job's progress until it ends (--json: JSON lines ending with train --json's summary).") { id };
        connection.AddTo(command);
        command.SetAction(async (parse, cancellation) =>
        {
            using var client = connection.Connect(parse);
            return await JobWatchPrinter.FollowAsync(client, parse.GetValue(id)!, parse.InvocationConfiguration.Output, parse.GetValue(connection.Json), cancellation);
        });
        return command;
    }

    public static Command Cancel()
    {
        var connection = new ConnectionFlags();
        var id = new Argument<string>("ID") { Description = "The job id." };
        var command = new Command("cancel", "Cancel a job: a queued one at once, a running one after its step in flight.") { id };
        connection.AddTo(command);
        command.SetAction(async (parse, cancellation) =>
        {
            using var client = connection.Connect(parse);
            var job = await client.CancelAsync(parse.GetValue(id)!, cancellation);
            var output = parse.InvocationConfiguration.Output;
            var state = JobManager.StateName(job.State);
            if (parse.GetValue(connection.Json)) JsonLinesObserver.Write(output, "cancel", new { job.Id, State = state });
            else output.WriteLine(job.State == JobState.Cancelled ? $"{job.Id} cancelled" : $"{job.Id} cancelling (it stops after the step in flight)");
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Jobs()
    {
        var connection = new ConnectionFlags();
        var state = new Option<string[]>("--state") { Description = "Only jobs in these states: queued, running, succeeded, failed, cancelled.", AllowMultipleArgumentsPerToken = true };
        var limit = new Option<int>("--limit") { Description = "At most this many jobs, newest first.", DefaultValueFactory = _ => 50 };
        var command = new Command("jobs", "List jobs, newest first.") { state, limit };
        connection.AddTo(command);
        command.SetAction(async (parse, cancellation) =>
        {
            var states = (parse.GetValue(state) ?? []).Select(ParseState).ToList();
            int wanted = parse.GetValue(limit);
            if (wanted < 1) throw new UsageException($"--limit must be at least 1, got {wanted}.");
            using var client = connection.Connect(parse);
            var jobs = new List<Job>();
            string? token = null;
            do
            {
                var page = await client.ListAsync(states, Math.Min(500, wanted - jobs.Count), token, cancellation);
                jobs.AddRange(page.Jobs);
                token = page.NextPageToken;
            }
            while (!string.IsNullOrEmpty(token) && jobs.Count < wanted);
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(connection.Json))
            {
                foreach (var job in jobs) output.WriteLine(JsonFormatter.Default.Format(job));
                return ExitCodes.Success;
            }
            output.WriteLine($"{"ID",-18} {"STATE",-10} {"STEP",-15} {"SUBMITTED (UTC)",-20} JOB");
            foreach (var job in jobs)
            {
                var spec = TrainingJobSpec.FromProto(job.Spec);
                var submitted = DateTimeOffset.FromUnixTimeMilliseconds(job.SubmittedUnixMs).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
                var step = job.TotalSteps > 0 ? $"{job.Step}/{job.TotalSteps}" : job.Step.ToString(CultureInfo.InvariantCulture);
                output.WriteLine($"{job.Id,-18} {JobManager.StateName(job.State),-10} {step,-15} {submitted,-20} {(spec.Name is null ? "" : spec.Name + ": ")}{spec.Describe()}");
            }
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Download()
    {
        var connection = new ConnectionFlags();
        var id = new Argument<string>("ID") { Description = "The job id." };
        var output = new Option<FileInfo>("--output", "-o") { Description = "Where to write the checkpoint (safetensors).", Required = true };
        var command = new Command("download", "Download a job's latest checkpoint.") { id, output };
        connection.AddTo(command);
        command.SetAction(async (parse, cancellation) =>
        {
            var target = parse.GetValue(output)!;
            using var client = connection.Connect(parse);
            // Written beside the target and renamed once complete, so a failed download never leaves a torn checkpoint.
            var temporary = target.FullName + ".part";
            long step;
            try
            {
                await using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
                    step = await client.DownloadCheckpointAsync(parse.GetValue(id)!, file, cancellation);
                File.Move(temporary, target.FullName, overwrite: true);
            }
            finally
            {
                if (File.Exists(temporary)) File.Delete(temporary);
            }
            var text = parse.InvocationConfiguration.Output;
            var bytes = new FileInfo(target.FullName).Length;
            if (parse.GetValue(connection.Json)) JsonLinesObserver.Write(text, "download", new { Path = target.FullName, Bytes = bytes, Step = step });
            else text.WriteLine($"wrote {target.FullName} ({bytes} bytes, step {step})");
            return ExitCodes.Success;
        });
        return command;
    }

    private static JobState ParseState(string text) => text.Trim().ToLowerInvariant() switch
    {
        "queued" => JobState.Queued,
        "running" => JobState.Running,
        "succeeded" => JobState.Succeeded,
        "failed" => JobState.Failed,
        "cancelled" or "canceled" => JobState.Cancelled,
        _ => throw new UsageException($"unknown job state '{text}': use queued, running, succeeded, failed or cancelled."),
    };
}

using System.CommandLine;
using ParallelNet.Cli.Output;
using ParallelNet.Data;
using ParallelNet.Training;
using ParallelNet.Training.Actors;
using ParallelNet.Training.Checkpoints;

namespace ParallelNet.Cli.Commands;

internal static class TrainCommand
{
    public static Command Create()
    {
        var flags = new TrainingFlags();
        var checkpoint = new Option<FileInfo?>("--checkpoint") { Description = "Write the model (safetensors) here: at the end, every epoch, and every --checkpoint-every steps." };
        var checkpointEvery = new Option<long>("--checkpoint-every") { Description = "Also checkpoint every K steps (needs --checkpoint)." };
        var resume = new Option<FileInfo?>("--resume") { Description = "Continue the job saved in this checkpoint (its spec and options win)." };
        var workers = new Option<int>("--workers") { Description = "In-process worker actors, each with a model replica (measured best on 2 vCPUs: 2).", DefaultValueFactory = _ => ParallelNet.Jobs.TrainingJobSpec.Defaults.Workers };
        var threads = new Option<int>("--threads") { Description = "CPU threads per worker (0 = the cores divided among the workers).", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print JSON lines (events, then a summary) instead of the live display." };
        var command = new Command("train", "Train a model in this process: a coordinator, a parameter server and N worker actors.") { workers, checkpoint, checkpointEvery, resume, threads, json };
        foreach (var option in flags.All) command.Options.Add(option);
        var device = DeviceFlag.AddTo(command, perWorker: true);

        command.SetAction((parse, cancellation) =>
        {
            var data = flags.LoadData(parse);
            TrainingCheckpoint? resumeFrom = null;
            TrainingOptions options;
            if (parse.GetValue(resume) is { } resumeFile)
            {
                resumeFrom = TrainingCheckpoint.Load(resumeFile.FullName);
                options = resumeFrom.Options;
                if (parse.GetValue(flags.MaxSteps) > 0) options = options with { MaxSteps = parse.GetValue(flags.MaxSteps) };
                if (parse.GetResult(flags.Epochs) is not null) options = options with { Epochs = parse.GetValue(flags.Epochs) };
            }
            else
            {
                options = flags.BuildOptions(parse, data);
            }
            long every = parse.GetValue(checkpointEvery);
            var checkpointFile = parse.GetValue(checkpoint);
            if (every < 0) throw new UsageException($"--checkpoint-every must be non-negative, got {every}.");
            if (every > 0 && checkpointFile is null) throw new UsageException("--checkpoint-every needs --checkpoint FILE.");
            var policy = checkpointFile is null ? null : new CheckpointPolicy(checkpointFile.FullName, every);

            // --worker-devices sets the worker count unless --workers is given too (then the two must agree).
            int workerCount = parse.GetResult(workers) is { Implicit: false } || device.WorkerDeviceList(parse) is not { } perWorker ? parse.GetValue(workers) : perWorker.Count;
            if (workerCount < 1) throw new UsageException($"--workers must be at least 1, got {workerCount}.");
            if (parse.GetValue(threads) < 0) throw new UsageException($"--threads must be non-negative (0 = share the cores), got {parse.GetValue(threads)}.");
            var settings = new ActorTrainerSettings { Workers = workerCount, ThreadsPerWorker = parse.GetValue(threads) };
            using var backends = device.Open(parse, workerCount, settings.ResolvedThreadsPerWorker, parse.InvocationConfiguration.Error);
            settings = settings with { WorkerCompute = backends.ForWorker };

            bool asJson = parse.GetValue(json);
            var display = asJson ? null : new ConsoleProgress(options, settings, parse.GetValue(flags.ModelFile)?.Name ?? parse.GetValue(flags.Model) ?? (resumeFrom is null ? "mlp" : "resumed model"), data.Train.Name, backends.Describe());
            ITrainingObserver observer = asJson ? new JsonLinesObserver(parse.InvocationConfiguration.Output) : display!;
            var trainer = new ActorTrainer(options, data, settings, observer);
            if (resumeFrom is not null) trainer.Restore(resumeFrom);

            TrainingSummary summary;
            if (display is null)
            {
                summary = trainer.Run(cancellation, policy);
                JsonLinesObserver.WriteSummary(parse.InvocationConfiguration.Output, summary);
            }
            else
            {
                summary = display.Run(trainer, () => trainer.Run(cancellation, policy));
                display.Finish(summary, policy?.Path);
            }
            return Task.FromResult(summary.Cancelled ? ExitCodes.Interrupted : ExitCodes.Success);
        });
        return command;
    }
}

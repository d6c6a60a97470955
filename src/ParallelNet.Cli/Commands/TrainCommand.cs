using System.CommandLine;
using ParallelNet.Cli.Output;
using ParallelNet.Data;
using ParallelNet.Tensors.Cpu;
using ParallelNet.Training;
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
        var threads = new Option<int>("--threads") { Description = "CPU threads for the kernels (0 = all cores).", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print JSON lines (events, then a summary) instead of the live display." };
        var command = new Command("train", "Train a model in this process.") { checkpoint, checkpointEvery, resume, threads, json };
        foreach (var option in flags.All) command.Options.Add(option);

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

            bool asJson = parse.GetValue(json);
            var compute = new CpuCompute(parse.GetValue(threads));
            var display = asJson ? null : new ConsoleProgress(options, parse.GetValue(flags.ModelFile)?.Name ?? parse.GetValue(flags.Model) ?? (resumeFrom is null ? "mlp" : "resumed model"), data.Train.Name);
            ITrainingObserver observer = asJson ? new JsonLinesObserver(parse.InvocationConfiguration.Output) : display!;
            var trainer = new LocalTrainer(options, data, compute, observer);
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

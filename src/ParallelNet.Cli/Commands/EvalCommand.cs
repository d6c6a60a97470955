using System.CommandLine;
using System.Text.Json;
using ParallelNet.Data;
using ParallelNet.NN;
using ParallelNet.Training;

namespace ParallelNet.Cli.Commands;

internal static class EvalCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<FileInfo>("--checkpoint") { Description = "A checkpoint written by train.", Required = true };
        var data = new Option<string>("--data") { Description = "Dataset to evaluate on (its test split).", DefaultValueFactory = _ => "mnist" };
        var dataDir = new Option<DirectoryInfo?>("--data-dir") { Description = "Directory with the MNIST IDX files." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var command = new Command("eval", "Report test loss and accuracy of a checkpoint.") { checkpoint, data, dataDir, json };
        var device = DeviceFlag.AddTo(command);
        command.SetAction(parse =>
        {
            using var backend = device.Open(parse, workers: 1, threadsPerWorker: 0, parse.InvocationConfiguration.Error);
            var saved = TrainingCheckpoint.Load(parse.GetValue(checkpoint)!.FullName);
            var split = DatasetCatalog.Load(parse.GetValue(data)!, parse.GetValue(dataDir)?.FullName);
            var spec = saved.ModelSpec;
            var test = split.Test ?? split.Train;
            if (test.SampleShape.Size != spec.Input.Size)
                throw new UsageException($"the checkpoint's model takes inputs of shape {spec.Input}, the data '{test.Name}' has {test.SampleShape}: wrong model for this data.");
            var model = Model.Create(spec, backend.ForWorker(0), 500);
            saved.ApplyTo(model, optimizer: null);
            var (loss, accuracy) = Evaluation.Run(model, test);
            if (parse.GetValue(json))
                parse.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(new { test_loss = loss, test_accuracy = accuracy, samples = test.Count, step = saved.Progress.Step, weights_sha256 = saved.WeightsSha256 }));
            else
                parse.InvocationConfiguration.Output.WriteLine($"{test.Name} test: loss {loss:F4}, accuracy {(double.IsNaN(accuracy) ? "-" : $"{100 * accuracy:F2} %")} over {test.Count:N0} samples (checkpoint step {saved.Progress.Step})");
            return ExitCodes.Success;
        });
        return command;
    }
}

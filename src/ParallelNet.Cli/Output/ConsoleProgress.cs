using Spectre.Console;
using ParallelNet.Training;
using ParallelNet.Training.Actors;

namespace ParallelNet.Cli.Output;

/// <summary>
/// The live display of `train`: a progress bar per epoch (loss, samples/s, ETA) that stays on screen
/// with the epoch's results once done, a line per worker (shards and samples done, its compute rate,
/// or why it was lost), then a table of all epochs. Falls back to plain lines when the output is not
/// a terminal. Events arrive on the coordinator's thread; Spectre's tasks are safe to update from it.
/// </summary>
internal sealed class ConsoleProgress(TrainingOptions options, ActorTrainerSettings settings, string modelName, string dataName, string devices = "cpu") : ITrainingObserver
{
    private readonly List<EpochCompleted> _epochs = [];
    private readonly Dictionary<int, WorkerActivity> _workers = [];
    private readonly Dictionary<int, ProgressTask> _workerTasks = [];
    private ProgressContext? _context;
    private ProgressTask? _task;
    private int _stepsPerEpoch;
    private double _smoothedThroughput;
    private double _smoothedLoss = double.NaN;

    public TrainingSummary Run(ActorTrainer trainer, Func<TrainingSummary> train)
    {
        _stepsPerEpoch = trainer.StepsPerEpoch;
        var o = options;
        AnsiConsole.MarkupLine($"[bold]ParallelNet[/] {Markup.Escape(modelName)} on {Markup.Escape(dataName)}: {trainer.Layout.TrainableCount:N0} parameters, " +
            $"{o.Epochs} epoch(s) x {trainer.StepsPerEpoch} steps, batch {o.BatchSize} in {o.VirtualShards} virtual shards over {settings.Workers} worker(s) " +
            (devices == "cpu" ? $"of {settings.ResolvedThreadsPerWorker} thread(s)" : $"on {Markup.Escape(devices)}") + $", {o.Optimizer.Kind.ToString().ToLowerInvariant()} lr {o.Optimizer.LearningRate}, seed {o.Seed}");
        if (!AnsiConsole.Profile.Capabilities.Interactive) return train();

        return AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                _context = context;
                return train();
            });
    }

    public void OnStep(StepCompleted step)
    {
        _smoothedThroughput = _smoothedThroughput == 0 ? step.SamplesPerSecond : 0.9 * _smoothedThroughput + 0.1 * step.SamplesPerSecond;
        _smoothedLoss = double.IsNaN(_smoothedLoss) ? step.Loss : 0.95 * _smoothedLoss + 0.05 * step.Loss;
        if (_context is null) return;
        _task ??= _context.AddTask(Describe(step.Epoch), maxValue: _stepsPerEpoch);
        _task.Value = step.StepInEpoch;
        _task.Description = $"{Describe(step.Epoch)}  loss {_smoothedLoss:F4}  {_smoothedThroughput,8:N0} samples/s{(step.Skipped ? "  [yellow]skipped a non-finite step[/]" : "")}";
    }

    public void OnWorker(WorkerActivity activity)
    {
        _workers[activity.Worker] = activity;
        if (_context is null)
        {
            if (activity.Status == WorkerStatus.Lost)
                AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(activity.Name)} lost at step {activity.Step}[/]: {Markup.Escape(activity.Reason ?? "")}; its shards go to the other workers");
            return;
        }
        if (!_workerTasks.TryGetValue(activity.Worker, out var task))
        {
            task = _context.AddTask(activity.Name, maxValue: 1);
            task.IsIndeterminate = true;
            _workerTasks[activity.Worker] = task;
        }
        task.Description = DescribeWorker(activity);
        if (activity.Status == WorkerStatus.Lost) task.StopTask();
    }

    public void OnEpoch(EpochCompleted epoch)
    {
        _epochs.Add(epoch);
        if (_context is null)
        {
            AnsiConsole.MarkupLine($"epoch {epoch.Epoch + 1}: train loss {epoch.TrainLoss:F4}  test loss {epoch.TestLoss:F4}  test accuracy {Percent(epoch.TestAccuracy)}  {epoch.Seconds:F1}s  {epoch.SamplesPerSecond:N0} samples/s");
            return;
        }
        if (_task is not null)
        {
            _task.Description = $"{Describe(epoch.Epoch)}  train {epoch.TrainLoss:F4}  test {epoch.TestLoss:F4}  acc [green]{Percent(epoch.TestAccuracy)}[/]  {epoch.SamplesPerSecond:N0} samples/s";
            _task.StopTask();
            _task = null;
        }
    }

    public void OnCheckpoint(CheckpointWritten checkpoint) { }

    public void Finish(TrainingSummary summary, string? checkpointPath)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumns("epoch", "train loss", "test loss", "test accuracy", "seconds", "samples/s");
        foreach (var e in _epochs)
            table.AddRow($"{e.Epoch + 1}", $"{e.TrainLoss:F4}", $"{e.TestLoss:F4}", Percent(e.TestAccuracy), $"{e.Seconds:F1}", $"{e.SamplesPerSecond:N0}");
        AnsiConsole.Write(table);
        if (_context is null)
            foreach (var w in _workers.Values.OrderBy(w => w.Worker)) AnsiConsole.MarkupLine(DescribeWorker(w));
        AnsiConsole.MarkupLine($"{(summary.Cancelled ? "[yellow]interrupted[/]" : "[green]done[/]")}: {summary.Steps} steps in {summary.Seconds:F1}s, {summary.SamplesPerSecond:N0} samples/s, weights_sha256 {summary.WeightsSha256[..16]}...");
        if (checkpointPath is not null) AnsiConsole.MarkupLine($"checkpoint: {Markup.Escape(checkpointPath)}");
    }

    private static string DescribeWorker(WorkerActivity w)
    {
        string name = Markup.Escape(w.Name);
        string totals = $"{w.ShardsDone,7:N0} shards  {w.SamplesDone,9:N0} samples";
        return w.Status switch
        {
            WorkerStatus.Lost => $"  {name}  {totals}  [red]lost at step {w.Step}[/]: {Markup.Escape(w.Reason ?? "")}",
            WorkerStatus.Joined => $"  {name}  {totals}  ready",
            _ => $"  {name}  {totals}  {w.SamplesPerSecond,8:N0} samples/s computing",
        };
    }

    private string Describe(int epoch) => $"epoch {epoch + 1}/{options.Epochs}";
    private static string Percent(double fraction) => double.IsNaN(fraction) ? "-" : $"{100 * fraction:F2} %";
}

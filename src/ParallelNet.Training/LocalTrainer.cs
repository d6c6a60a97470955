using System.Diagnostics;
using ParallelNet.Data;
using ParallelNet.NN;
using ParallelNet.NN.Optimizers;
using ParallelNet.Tensors;

namespace ParallelNet.Training;

/// <summary>
/// The plain synchronous loop in one thread of control: for every step it runs the S virtual shards
/// (as one batch where the model allows, see <see cref="Model.TrainShards"/>), reduces their gradients along the fixed tree and applies the optimizer. It is
/// the reference the actor-based trainer must match bit for bit, and the baseline of its overhead.
/// </summary>
public sealed class LocalTrainer
{
    private readonly TrainingOptions _options;
    private readonly DataSplit _data;
    private readonly ICompute _compute;
    private readonly ITrainingObserver _observer;
    private readonly TimeProvider _time;

    public LocalTrainer(TrainingOptions options, DataSplit data, ICompute compute, ITrainingObserver? observer = null, TimeProvider? time = null)
    {
        options.Validate();
        if (data.Train.SampleShape.Size != options.Model.Input.Size)
            throw new TrainingException($"The model expects inputs of shape {options.Model.Input} but the data '{data.Train.Name}' has samples of shape {data.Train.SampleShape}.");
        _options = options;
        _data = data;
        _compute = compute;
        _observer = observer ?? new NullObserver();
        _time = time ?? TimeProvider.System;
        int shardCapacity = (options.BatchSize + options.VirtualShards - 1) / options.VirtualShards;
        Model = Model.Create(options.Model, compute, Math.Max(shardCapacity, Evaluation.ChunkSize));
        Optimizer = new Optimizer(options.Optimizer, Model.Layout, compute);
        Model.Initialize(options.Seed);
    }

    public Model Model { get; }
    public Optimizer Optimizer { get; }
    public TrainingProgress Progress { get; private set; } = TrainingProgress.Start;

    /// <summary>Steps per epoch: every training sample once, the last batch possibly smaller (PyTorch drop_last=False).</summary>
    public int StepsPerEpoch => (_data.Train.Count + _options.BatchSize - 1) / _options.BatchSize;

    public long TotalSteps
    {
        get
        {
            long all = (long)StepsPerEpoch * _options.Epochs;
            return _options.MaxSteps > 0 ? Math.Min(all, _options.MaxSteps) : all;
        }
    }

    /// <summary>Continue from a checkpoint's weights, optimizer state and position.</summary>
    public void Restore(TrainingCheckpoint checkpoint)
    {
        checkpoint.ApplyTo(Model, Optimizer);
        Progress = checkpoint.Progress;
    }

    public TrainingSummary Run(CancellationToken cancellation = default, CheckpointPolicy? checkpoints = null)
    {
        var train = _data.Train;
        int sampleSize = train.SampleShape.Size;
        int shards = _options.VirtualShards;
        var inputs = new float[_options.BatchSize * sampleSize];
        var targets = new float[_options.BatchSize * train.TargetSize];
        var shardCounts = new int[shards];
        var shardResults = new ShardResult[shards];
        var summedGradients = _compute.Allocate(new Shape(Model.Layout.TotalSize));

        long startTimestamp = _time.GetTimestamp();
        long samplesThisRun = 0;
        var progress = Progress;
        var lastEpoch = new EpochCompleted(progress.Epoch, progress.Step, double.NaN, double.NaN, double.NaN, 0, 0);
        bool cancelled = false;

        while (progress.Step < TotalSteps)
        {
            long epochStart = _time.GetTimestamp();
            long epochSamples = 0;
            int[] permutation = EpochPermutation.Create(_options.Seed, progress.Epoch, train.Count);
            int epochOfLoop = progress.Epoch;
            while (progress.Epoch == epochOfLoop && progress.Step < TotalSteps)
            {
                if (cancellation.IsCancellationRequested) { cancelled = true; break; }
                long stepStart = _time.GetTimestamp();
                int batchStart = progress.StepInEpoch * _options.BatchSize;
                int batchCount = Math.Min(_options.BatchSize, train.Count - batchStart);
                var batch = permutation.AsSpan(batchStart, batchCount);
                double lossSum = 0;
                long step = progress.Step + 1;

                var plan = new ShardPlan(batchCount, shards);
                for (int s = 0; s < shards; s++) shardCounts[s] = plan.Shard(s).Count;
                // The shards are consecutive slices of the batch: the model may run them as one batch and write the
                // tree sum of their gradients directly.
                train.CopyBatch(batch, inputs.AsSpan(0, batchCount * sampleSize), targets.AsSpan(0, batchCount * train.TargetSize));
                Model.TrainShardsSummed(inputs.AsSpan(0, batchCount * sampleSize), targets.AsSpan(0, batchCount * train.TargetSize), shardCounts,
                    new StepContext(_options.Seed, progress.Epoch, step, 0), summedGradients, shardResults);
                foreach (var result in shardResults) lossSum += result.LossSum;
                var outcome = ApplyUpdate(summedGradients, batchCount);

                int epochOfStep = progress.Epoch;
                int stepInEpoch = progress.StepInEpoch + 1;
                progress = progress.Advance(StepsPerEpoch, lossSum, batchCount);
                samplesThisRun += batchCount;
                epochSamples += batchCount;
                double stepSeconds = Math.Max(_time.GetElapsedTime(stepStart).TotalSeconds, 1e-9);
                _observer.OnStep(new StepCompleted(epochOfStep, step, stepInEpoch,
                    StepsPerEpoch, lossSum / batchCount, batchCount / stepSeconds, !outcome.Applied));
                Progress = progress;
                if (checkpoints is { Every: > 0 } && step % checkpoints.Every == 0 && progress.StepInEpoch != 0)
                    WriteCheckpoint(checkpoints.Path, step);
            }
            if (cancelled) break;

            bool epochFinished = progress.StepInEpoch == 0;
            if (epochFinished || progress.Step >= TotalSteps)
            {
                var (testLoss, testAccuracy) = Evaluation.Run(Model, _data.Test);
                double seconds = _time.GetElapsedTime(epochStart).TotalSeconds;
                int reportedEpoch = epochFinished ? progress.Epoch - 1 : progress.Epoch;
                lastEpoch = new EpochCompleted(reportedEpoch, progress.Step, progress.EpochLossSum / Math.Max(1, progress.EpochSamples),
                    testLoss, testAccuracy, seconds, epochSamples / Math.Max(seconds, 1e-9));
                if (epochFinished) lastEpoch = lastEpoch with { TrainLoss = progress.PreviousEpochLoss };
                _observer.OnEpoch(lastEpoch);
                if (checkpoints is not null && epochFinished) WriteCheckpoint(checkpoints.Path, progress.Step);
            }
        }

        if (checkpoints is not null && (cancelled || progress.StepInEpoch != 0)) WriteCheckpoint(checkpoints.Path, progress.Step);
        double totalSeconds = _time.GetElapsedTime(startTimestamp).TotalSeconds;
        return new TrainingSummary(lastEpoch.TestAccuracy, lastEpoch.TestLoss, lastEpoch.TrainLoss, lastEpoch.Epoch + 1, progress.Step,
            samplesThisRun / Math.Max(totalSeconds, 1e-9), Model.Layout.TrainableCount, WeightsHash.Sha256(Model), totalSeconds, cancelled);
    }

    /// <summary>Adds the spec's L2 term once per step, then lets the optimizer average, check and apply.</summary>
    private StepOutcome ApplyUpdate(Tensor summedGradients, int batchCount)
    {
        // The optimizer divides by the batch size, so the per-step L2 gradient lambda*W enters scaled by it.
        Model.ApplyL2(Model.Parameters, summedGradients, _options.Model.L2 * batchCount);
        var outcome = Optimizer.Step(Model.Parameters, summedGradients, batchCount, TotalSteps);
        if (!outcome.Applied && !_options.SkipNonFiniteSteps)
            throw new TrainingException($"Step {Progress.Step + 1} produced a non-finite gradient ({outcome.Rejection}); the weights were not changed. Lower the learning rate, enable gradient clipping, or skip such steps.");
        return outcome;
    }

    private void WriteCheckpoint(string path, long step)
    {
        TrainingCheckpoint.Capture(_options, _data.Normalization, Model, Optimizer, Progress).Save(path);
        _observer.OnCheckpoint(new CheckpointWritten(path, step));
    }

    private sealed class NullObserver : ITrainingObserver;
}

/// <summary>Where and how often to checkpoint: every K steps (0 = only at epoch ends and at the end).</summary>
public sealed record CheckpointPolicy(string Path, long Every = 0);

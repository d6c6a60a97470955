using System.Globalization;
using System.Text.Json;
using ParallelNet.Data;
using ParallelNet.NN;
using ParallelNet.NN.Optimizers;
using ParallelNet.Tensors;

namespace ParallelNet.Training;

/// <summary>
/// A job's full state in the safetensors layout: the weights under their PyTorch names (so the file
/// loads into the equivalent torch.nn.Sequential after dropping the "optimizer/" entries), the
/// optimizer state, and in the metadata the model spec, options, normalization and position.
/// </summary>
public sealed record TrainingCheckpoint(
    string JobId,
    string ModelSpecYaml,
    string Normalization,
    string OptionsJson,
    TrainingProgress Progress,
    long OptimizerSteps,
    IReadOnlyList<Checkpoints.NamedTensor> Parameters,
    IReadOnlyList<Checkpoints.NamedTensor> OptimizerState,
    string WeightsSha256)
{
    public const string Format = "parallelnet.checkpoint.v1";
    private const string OptimizerPrefix = "optimizer/";

    public static TrainingCheckpoint Capture(TrainingOptions options, Normalization normalization, Model model, Optimizer optimizer, TrainingProgress progress, string jobId = "local")
    {
        var host = new float[model.Layout.TotalSize];
        model.Compute.Download(model.Parameters, host);
        var parameters = model.Layout.Parameters
            .Select(p => new Checkpoints.NamedTensor(p.Name, p.Shape.ToArray(), host.AsSpan(p.Offset, p.Length).ToArray()))
            .ToList();
        var state = optimizer.State.Select(s =>
        {
            var data = new float[s.State.Length];
            model.Compute.Download(s.State, data);
            return new Checkpoints.NamedTensor(OptimizerPrefix + s.Name, s.State.Shape.ToArray(), data);
        }).ToList();
        return new TrainingCheckpoint(jobId, options.Model.ToYaml(), normalization.Serialize(), OptionsCodec.Serialize(options),
            progress, optimizer.StepsTaken, parameters, state, WeightsHash.Sha256(host));
    }

    public void Save(string path)
    {
        var metadata = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["job_id"] = JobId,
            ["model_spec"] = ModelSpecYaml,
            ["normalization"] = Normalization,
            ["options"] = OptionsJson,
            ["epoch"] = Progress.Epoch.ToString(CultureInfo.InvariantCulture),
            ["step_in_epoch"] = Progress.StepInEpoch.ToString(CultureInfo.InvariantCulture),
            ["step"] = Progress.Step.ToString(CultureInfo.InvariantCulture),
            ["version"] = Progress.Version.ToString(CultureInfo.InvariantCulture),
            ["epoch_loss_sum"] = Progress.EpochLossSum.ToString("R", CultureInfo.InvariantCulture),
            ["epoch_samples"] = Progress.EpochSamples.ToString(CultureInfo.InvariantCulture),
            ["previous_epoch_loss"] = Progress.PreviousEpochLoss.ToString("R", CultureInfo.InvariantCulture),
            ["optimizer_steps"] = OptimizerSteps.ToString(CultureInfo.InvariantCulture),
            ["weights_sha256"] = WeightsSha256,
        };
        var options = OptionsCodec.Deserialize(OptionsJson, ModelSpecYaml);
        metadata["seed"] = options.Seed.ToString(CultureInfo.InvariantCulture);
        Checkpoints.SafeTensors.Write(path, [.. Parameters, .. OptimizerState], metadata);
    }

    /// <summary>Reads and verifies a checkpoint (checksum, completeness); throws <see cref="Checkpoints.CheckpointException"/>.</summary>
    public static TrainingCheckpoint Load(string path)
    {
        var (tensors, metadata) = Checkpoints.SafeTensors.Read(path);
        string Field(string key) => metadata.TryGetValue(key, out var v) ? v
            : throw new Checkpoints.CheckpointException($"Checkpoint '{path}' lacks the metadata field '{key}'; it was not written by this version of ParallelNet.");
        if (Field("format") != Format) throw new Checkpoints.CheckpointException($"Checkpoint '{path}' has format '{Field("format")}', expected '{Format}'.");
        try
        {
            var progress = new TrainingProgress(
                int.Parse(Field("epoch"), CultureInfo.InvariantCulture), int.Parse(Field("step_in_epoch"), CultureInfo.InvariantCulture),
                long.Parse(Field("step"), CultureInfo.InvariantCulture), double.Parse(Field("epoch_loss_sum"), CultureInfo.InvariantCulture),
                long.Parse(Field("epoch_samples"), CultureInfo.InvariantCulture), double.Parse(Field("previous_epoch_loss"), CultureInfo.InvariantCulture));
            return new TrainingCheckpoint(Field("job_id"), Field("model_spec"), Field("normalization"), Field("options"), progress,
                long.Parse(Field("optimizer_steps"), CultureInfo.InvariantCulture),
                tensors.Where(t => !t.Name.StartsWith(OptimizerPrefix, StringComparison.Ordinal)).ToList(),
                tensors.Where(t => t.Name.StartsWith(OptimizerPrefix, StringComparison.Ordinal)).ToList(),
                Field("weights_sha256"));
        }
        catch (FormatException e)
        {
            throw new Checkpoints.CheckpointException($"Checkpoint '{path}' has malformed metadata: {e.Message}", e);
        }
    }

    public ModelSpec ModelSpec => NN.ModelSpec.Parse(ModelSpecYaml);
    public TrainingOptions Options => OptionsCodec.Deserialize(OptionsJson, ModelSpecYaml);
    public Normalization GetNormalization() => Data.Normalization.Parse(Normalization);

    /// <summary>Copies weights (and optimizer state when given) into a model built from this checkpoint's spec; refuses a mismatch.</summary>
    public void ApplyTo(Model model, Optimizer? optimizer)
    {
        var byName = Parameters.ToDictionary(p => p.Name, StringComparer.Ordinal);
        foreach (var p in model.Layout.Parameters)
        {
            if (!byName.TryGetValue(p.Name, out var stored))
                throw new Checkpoints.CheckpointException($"The checkpoint does not fit this model (wrong model): it has no parameter '{p.Name}'.");
            if (!stored.Shape.AsSpan().SequenceEqual(p.Shape.Dims))
                throw new Checkpoints.CheckpointException($"The checkpoint does not fit this model (wrong model): '{p.Name}' is [{string.Join(", ", stored.Shape)}] there, {p.Shape} here.");
        }
        if (byName.Count != model.Layout.Parameters.Count)
            throw new Checkpoints.CheckpointException($"The checkpoint does not fit this model (wrong model): it holds {byName.Count} parameters, the model {model.Layout.Parameters.Count}.");
        foreach (var p in model.Layout.Parameters)
            model.Compute.Upload(byName[p.Name].Data, model.Parameters.View(p.Offset, p.Shape));
        if (optimizer is not null)
            optimizer.LoadState(OptimizerState.ToDictionary(s => s.Name[OptimizerPrefix.Length..], s => s.Data, StringComparer.Ordinal), OptimizerSteps);
    }
}

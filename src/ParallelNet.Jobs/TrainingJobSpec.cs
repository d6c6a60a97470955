using System.Globalization;
using ParallelNet.Data;
using ParallelNet.NN;
using ParallelNet.NN.Optimizers;
using ParallelNet.Training;

namespace ParallelNet.Jobs;

/// <summary>
/// A training job as the user states it: the one spec behind `train`'s flags, YAML job files and the
/// proto's JobSpec. Unset optional values (null) take the defaults of <see cref="Defaults"/>; <see cref="ToTrainingOptions"/>
/// resolves them against the data. Field names in errors and YAML are the proto's (snake_case).
/// </summary>
public sealed partial record TrainingJobSpec
{
    /// <summary>The defaults of `parallelnet train` and of every field a job leaves empty.</summary>
    public static TrainingJobSpec Defaults { get; } = new();

    public const string DefaultModel = "mlp";
    public const float DefaultSgdLearningRate = 0.05f;
    public const float DefaultAdamLearningRate = 0.001f;
    public const float DefaultSgdMomentum = 0.9f;
    public const int MaxNameLength = 200;
    public const int MaxModelYamlLength = 256 * 1024;
    public const int MaxWorkers = 256;

    /// <summary>Free text shown in job lists.</summary>
    public string? Name { get; init; }

    /// <summary>A preset name (see <see cref="ModelSpec.Presets"/>); null with no <see cref="ModelYaml"/> means <see cref="DefaultModel"/>.</summary>
    public string? Model { get; init; }

    /// <summary>A YAML model spec (layer list) instead of a preset.</summary>
    public string? ModelYaml { get; init; }

    /// <summary>mnist, spirals, blobs, linear, or a CSV path (on the machine that trains).</summary>
    public string Data { get; init; } = "mnist";

    /// <summary>The MNIST directory on the machine that trains; null = its default.</summary>
    public string? DataDir { get; init; }

    public string Optimizer { get; init; } = "sgd";

    /// <summary>null = 0.05 for sgd, 0.001 for adam and adamw.</summary>
    public float? LearningRate { get; init; }

    /// <summary>SGD only; null = 0.9.</summary>
    public float? Momentum { get; init; }

    public bool Nesterov { get; init; }
    public float WeightDecay { get; init; }
    public string LearningRateSchedule { get; init; } = "constant";
    public float ClipNorm { get; init; }
    public float ClipValue { get; init; }
    public int Epochs { get; init; } = 3;

    /// <summary>Stop after this global step (0 = all epochs).</summary>
    public long MaxSteps { get; init; }

    public int BatchSize { get; init; } = 128;

    /// <summary>Worker actors (a cluster uses at most this many live workers).</summary>
    public int Workers { get; init; } = 2;

    /// <summary>Virtual shards per batch (a power of two); with the seed it fixes the weights bit for bit.</summary>
    public int VirtualShards { get; init; } = 4;

    public ulong Seed { get; init; } = 1;

    /// <summary>Also checkpoint every K steps (0 = at the end of each epoch only).</summary>
    public long CheckpointEvery { get; init; }

    public bool SkipNonFiniteSteps { get; init; }

    /// <summary>The optimizer named by <see cref="Optimizer"/>.</summary>
    public OptimizerKind OptimizerKind => Optimizer.Trim().ToLowerInvariant() switch
    {
        "sgd" => OptimizerKind.Sgd,
        "adam" => OptimizerKind.Adam,
        "adamw" => OptimizerKind.AdamW,
        _ => throw new JobSpecException("optimizer", $"unknown optimizer '{Optimizer}': use sgd, adam or adamw"),
    };

    /// <summary>Checks every field without loading data; throws <see cref="JobSpecException"/> naming the first bad field.</summary>
    public void Validate()
    {
        if (Name is { Length: > MaxNameLength }) Fail("name", $"at most {MaxNameLength} characters, got {Name.Length}");
        if (!string.IsNullOrWhiteSpace(Model) && !string.IsNullOrWhiteSpace(ModelYaml)) Fail("model", "give either a preset (model) or a layer list (model_yaml), not both");
        if (!string.IsNullOrWhiteSpace(Model) && !ModelSpec.Presets.Contains(Model.Trim().ToLowerInvariant()))
            Fail("model", $"unknown preset '{Model}': use one of {string.Join(", ", ModelSpec.Presets)}");
        if (ModelYaml is { Length: > MaxModelYamlLength }) Fail("model_yaml", $"at most {MaxModelYamlLength} characters, got {ModelYaml.Length}");
        if (!string.IsNullOrWhiteSpace(ModelYaml))
        {
            try
            {
                ModelSpec.Parse(ModelYaml);
            }
            catch (ModelSpecException e)
            {
                Fail("model_yaml", e.Message);
            }
        }
        if (string.IsNullOrWhiteSpace(Data)) Fail("data", $"empty: use one of {string.Join(", ", DatasetCatalog.Names)} or a path to a .csv file");
        if (Epochs <= 0) Fail("epochs", $"must be positive, got {Epochs}");
        if (MaxSteps < 0) Fail("max_steps", $"must be non-negative (0 = all epochs), got {MaxSteps}");
        if (BatchSize <= 0) Fail("batch_size", $"must be positive, got {BatchSize}");
        if (Workers is < 1 or > MaxWorkers) Fail("workers", $"must be between 1 and {MaxWorkers}, got {Workers}");
        if (VirtualShards <= 0 || (VirtualShards & (VirtualShards - 1)) != 0 || VirtualShards > 1024)
            Fail("virtual_shards", $"must be a power of two between 1 and 1024, got {VirtualShards}");
        if (VirtualShards > BatchSize) Fail("virtual_shards", $"cannot exceed the batch size ({BatchSize}), got {VirtualShards}");
        if (CheckpointEvery < 0) Fail("checkpoint_every", $"must be non-negative (0 = at epoch ends), got {CheckpointEvery}");
        BuildOptimizer();
    }

    /// <summary>The trainer's options for this job on <paramref name="data"/> (presets take the data's input shape and classes).</summary>
    public TrainingOptions ToTrainingOptions(DataSplit data)
    {
        ArgumentNullException.ThrowIfNull(data);
        Validate();
        ModelSpec model;
        try
        {
            model = !string.IsNullOrWhiteSpace(ModelYaml)
                ? ModelSpec.Parse(ModelYaml)
                : ModelSpec.Preset(string.IsNullOrWhiteSpace(Model) ? DefaultModel : Model.Trim().ToLowerInvariant(), data.Train.SampleShape, data.Train.Classes > 0 ? data.Train.Classes : null);
        }
        catch (Exception e) when (e is ModelSpecException or ArgumentException)
        {
            throw new JobSpecException(string.IsNullOrWhiteSpace(ModelYaml) ? "model" : "model_yaml", e.Message, e);
        }
        var options = new TrainingOptions
        {
            Model = model,
            Optimizer = BuildOptimizer(),
            Epochs = Epochs,
            BatchSize = BatchSize,
            VirtualShards = VirtualShards,
            Seed = Seed,
            MaxSteps = MaxSteps,
            SkipNonFiniteSteps = SkipNonFiniteSteps,
        };
        options.Validate();
        return options;
    }

    private OptimizerOptions BuildOptimizer()
    {
        var kind = OptimizerKind;
        if (kind != OptimizerKind.Sgd && Momentum is not null) Fail("momentum", $"applies to sgd only; {Optimizer} uses its own moment estimates");
        LearningRateSchedule? schedule = null;
        try
        {
            schedule = OptionsCodec.ParseSchedule(LearningRateSchedule);
        }
        catch (ArgumentException e)
        {
            Fail("lr_schedule", e.Message);
        }
        var optimizer = new OptimizerOptions(kind,
            LearningRate ?? (kind == OptimizerKind.Sgd ? DefaultSgdLearningRate : DefaultAdamLearningRate),
            Momentum ?? (kind == OptimizerKind.Sgd ? DefaultSgdMomentum : 0f),
            Nesterov, WeightDecay, ClipGlobalNorm: ClipNorm, ClipValue: ClipValue, Schedule: schedule);
        try
        {
            optimizer.Validate();
        }
        catch (ArgumentException e)
        {
            var field = e.ParamName switch
            {
                nameof(OptimizerOptions.LearningRate) => "learning_rate",
                nameof(OptimizerOptions.Momentum) => "momentum",
                nameof(OptimizerOptions.Nesterov) => "nesterov",
                nameof(OptimizerOptions.WeightDecay) => "weight_decay",
                nameof(OptimizerOptions.ClipGlobalNorm) => "clip_norm",
                nameof(OptimizerOptions.ClipValue) => "clip_value",
                _ => "lr_schedule",
            };
            throw new JobSpecException(field, e.Message.Split(" (Parameter", 2)[0], e);
        }
        return optimizer;
    }

    /// <summary>A one-line description for listings, e.g. "mlp on mnist, sgd lr 0.05, 3 epochs".</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{(string.IsNullOrWhiteSpace(ModelYaml) ? (string.IsNullOrWhiteSpace(Model) ? DefaultModel : Model) : "custom model")} on {Data}, {Optimizer}, {Epochs} epoch(s), batch {BatchSize}");

    private static void Fail(string field, string reason) => throw new JobSpecException(field, reason);
}

/// <summary>A job spec field is invalid: <see cref="Field"/> names it (proto/YAML spelling), the message says why.</summary>
public sealed class JobSpecException(string field, string reason, Exception? inner = null)
    : Exception($"invalid job spec: {field}: {reason.TrimEnd('.')}.", inner)
{
    public string Field { get; } = field;
}

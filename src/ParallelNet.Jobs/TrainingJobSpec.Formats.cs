using System.Globalization;
using System.Text;
using ParallelNet.Jobs.V1;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ParallelNet.Jobs;

/// <summary>The spec's wire form (proto JobSpec, where 0 or empty means "the default") and its YAML job-file form.</summary>
public sealed partial record TrainingJobSpec
{
    public JobSpec ToProto()
    {
        var proto = new JobSpec
        {
            Name = Name ?? "",
            Model = Model ?? "",
            ModelYaml = ModelYaml ?? "",
            Data = Data,
            DataDir = DataDir ?? "",
            Optimizer = Optimizer,
            Nesterov = Nesterov,
            WeightDecay = WeightDecay,
            LrSchedule = LearningRateSchedule,
            ClipNorm = ClipNorm,
            ClipValue = ClipValue,
            Epochs = Epochs,
            MaxSteps = MaxSteps,
            BatchSize = BatchSize,
            Workers = Workers,
            VirtualShards = VirtualShards,
            Seed = Seed,
            CheckpointEvery = CheckpointEvery,
            SkipNonfiniteSteps = SkipNonFiniteSteps,
        };
        if (LearningRate is { } lr) proto.LearningRate = lr;
        if (Momentum is { } momentum) proto.Momentum = momentum;
        return proto;
    }

    /// <summary>Reads a proto JobSpec; zero or empty fields take <see cref="Defaults"/>. Does not validate.</summary>
    public static TrainingJobSpec FromProto(JobSpec proto)
    {
        ArgumentNullException.ThrowIfNull(proto);
        var d = Defaults;
        return new TrainingJobSpec
        {
            Name = NullIfEmpty(proto.Name),
            Model = NullIfEmpty(proto.Model),
            ModelYaml = NullIfEmpty(proto.ModelYaml),
            Data = NullIfEmpty(proto.Data) ?? d.Data,
            DataDir = NullIfEmpty(proto.DataDir),
            Optimizer = NullIfEmpty(proto.Optimizer) ?? d.Optimizer,
            LearningRate = proto.HasLearningRate ? proto.LearningRate : null,
            Momentum = proto.HasMomentum ? proto.Momentum : null,
            Nesterov = proto.Nesterov,
            WeightDecay = proto.WeightDecay,
            LearningRateSchedule = NullIfEmpty(proto.LrSchedule) ?? d.LearningRateSchedule,
            ClipNorm = proto.ClipNorm,
            ClipValue = proto.ClipValue,
            Epochs = proto.Epochs != 0 ? proto.Epochs : d.Epochs,
            MaxSteps = proto.MaxSteps,
            BatchSize = proto.BatchSize != 0 ? proto.BatchSize : d.BatchSize,
            Workers = proto.Workers != 0 ? proto.Workers : d.Workers,
            VirtualShards = proto.VirtualShards != 0 ? proto.VirtualShards : d.VirtualShards,
            Seed = proto.HasSeed ? proto.Seed : d.Seed,
            CheckpointEvery = proto.CheckpointEvery,
            SkipNonFiniteSteps = proto.SkipNonfiniteSteps,
        };
    }

    /// <summary>The keys a YAML job file may use: the proto's field names, plus model_file (a model spec file beside the job file).</summary>
    public static IReadOnlyList<string> YamlKeys { get; } =
    [
        "name", "model", "model_yaml", "model_file", "data", "data_dir", "optimizer", "learning_rate", "momentum", "nesterov",
        "weight_decay", "lr_schedule", "clip_norm", "clip_value", "epochs", "max_steps", "batch_size", "workers",
        "virtual_shards", "seed", "checkpoint_every", "skip_nonfinite_steps",
    ];

    /// <summary>
    /// Reads a YAML job file (a mapping of <see cref="YamlKeys"/>); <paramref name="baseDirectory"/> resolves model_file.
    /// Unknown keys and malformed values fail with <see cref="JobSpecException"/> naming the key. Does not validate ranges.
    /// </summary>
    public static TrainingJobSpec ParseYaml(string text, string? baseDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new JobSpecException("yaml", $"not valid YAML at line {e.Start.Line}: {e.Message}", e);
        }
        if (stream.Documents.Count == 0) return Defaults;
        if (stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new JobSpecException("yaml", "a job file is a mapping of keys (name, model, data, epochs...) to values");
        var spec = Defaults;
        foreach (var (keyNode, valueNode) in root.Children)
        {
            var key = ((keyNode as YamlScalarNode)?.Value ?? "").Trim();
            if (valueNode is not YamlScalarNode { Value: { } value })
                throw new JobSpecException(key, "expected a single value");
            spec = key switch
            {
                "name" => spec with { Name = value },
                "model" => spec with { Model = value },
                "model_yaml" => spec with { ModelYaml = value },
                "model_file" => spec with { ModelYaml = ReadModelFile(value, baseDirectory) },
                "data" => spec with { Data = value },
                "data_dir" => spec with { DataDir = value },
                "optimizer" => spec with { Optimizer = value },
                "learning_rate" => spec with { LearningRate = ParseFloat(key, value) },
                "momentum" => spec with { Momentum = ParseFloat(key, value) },
                "nesterov" => spec with { Nesterov = ParseBool(key, value) },
                "weight_decay" => spec with { WeightDecay = ParseFloat(key, value) },
                "lr_schedule" => spec with { LearningRateSchedule = value },
                "clip_norm" => spec with { ClipNorm = ParseFloat(key, value) },
                "clip_value" => spec with { ClipValue = ParseFloat(key, value) },
                "epochs" => spec with { Epochs = (int)ParseInteger(key, value, int.MaxValue) },
                "max_steps" => spec with { MaxSteps = ParseInteger(key, value, long.MaxValue) },
                "batch_size" => spec with { BatchSize = (int)ParseInteger(key, value, int.MaxValue) },
                "workers" => spec with { Workers = (int)ParseInteger(key, value, int.MaxValue) },
                "virtual_shards" => spec with { VirtualShards = (int)ParseInteger(key, value, int.MaxValue) },
                "seed" => spec with { Seed = ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seed) ? seed : throw new JobSpecException(key, $"expected a non-negative integer, got '{value}'") },
                "checkpoint_every" => spec with { CheckpointEvery = ParseInteger(key, value, long.MaxValue) },
                "skip_nonfinite_steps" => spec with { SkipNonFiniteSteps = ParseBool(key, value) },
                _ => throw new JobSpecException(key, $"unknown key; a job file may use {string.Join(", ", YamlKeys)}"),
            };
        }
        return spec;
    }

    /// <summary>The spec as a YAML job file (every field, defaults included, so the file documents the job).</summary>
    public string ToYaml()
    {
        var yaml = new StringBuilder();
        void Line(string key, object? value)
        {
            if (value is null) return;
            var text = value switch
            {
                bool b => b ? "true" : "false",
                float f => f.ToString("R", CultureInfo.InvariantCulture),
                IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
                _ => Quote(value.ToString()!),
            };
            yaml.Append(key).Append(": ").Append(text).Append('\n');
        }
        Line("name", Name);
        Line("model", Model);
        if (ModelYaml is not null)
        {
            yaml.Append("model_yaml: |\n");
            foreach (var line in ModelYaml.Replace("\r\n", "\n").TrimEnd('\n').Split('\n')) yaml.Append("  ").Append(line).Append('\n');
        }
        Line("data", Data);
        Line("data_dir", DataDir);
        Line("optimizer", Optimizer);
        Line("learning_rate", LearningRate);
        Line("momentum", Momentum);
        Line("nesterov", Nesterov);
        Line("weight_decay", WeightDecay);
        Line("lr_schedule", LearningRateSchedule);
        Line("clip_norm", ClipNorm);
        Line("clip_value", ClipValue);
        Line("epochs", Epochs);
        Line("max_steps", MaxSteps);
        Line("batch_size", BatchSize);
        Line("workers", Workers);
        Line("virtual_shards", VirtualShards);
        Line("seed", Seed);
        Line("checkpoint_every", CheckpointEvery);
        Line("skip_nonfinite_steps", SkipNonFiniteSteps);
        return yaml.ToString();
    }

    private static string Quote(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static string? NullIfEmpty(string text) => string.IsNullOrWhiteSpace(text) ? null : text;

    private static string ReadModelFile(string path, string? baseDirectory)
    {
        var full = Path.IsPathRooted(path) || baseDirectory is null ? path : Path.Combine(baseDirectory, path);
        if (!File.Exists(full)) throw new JobSpecException("model_file", $"'{full}' does not exist");
        return File.ReadAllText(full);
    }

    private static float ParseFloat(string key, string value) =>
        float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var result) ? result
            : throw new JobSpecException(key, $"expected a number, got '{value}'");

    private static long ParseInteger(string key, string value, long max) =>
        long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var result) && result <= max && result >= -max ? result
            : throw new JobSpecException(key, $"expected an integer, got '{value}'");

    private static bool ParseBool(string key, string value) => value.Trim().ToLowerInvariant() switch
    {
        "true" or "yes" or "on" => true,
        "false" or "no" or "off" => false,
        _ => throw new JobSpecException(key, $"expected true or false, got '{value}'"),
    };
}

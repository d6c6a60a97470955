using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using ParallelNet.NN;
using ParallelNet.NN.Optimizers;

namespace ParallelNet.Training;

/// <summary>
/// Text forms of a job's options: JSON for checkpoint metadata (and later the wire), and the
/// compact schedule syntax of the command line: <c>constant</c>, <c>step:SIZE:GAMMA</c>,
/// <c>cosine[:MIN_FACTOR[:WARMUP]]</c>.
/// </summary>
public static class OptionsCodec
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    private sealed record OptionsDto(
        int Epochs, int BatchSize, int VirtualShards, ulong Seed, long MaxSteps, bool SkipNonFiniteSteps,
        OptimizerKind Optimizer, float LearningRate, float Momentum, bool Nesterov, float WeightDecay,
        float Beta1, float Beta2, float Epsilon, float ClipGlobalNorm, float ClipValue, string Schedule);

    public static string Serialize(TrainingOptions o)
    {
        var opt = o.Optimizer;
        var dto = new OptionsDto(o.Epochs, o.BatchSize, o.VirtualShards, o.Seed, o.MaxSteps, o.SkipNonFiniteSteps,
            opt.Kind, opt.LearningRate, opt.Momentum, opt.Nesterov, opt.WeightDecay, opt.Beta1, opt.Beta2, opt.Epsilon,
            opt.ClipGlobalNorm, opt.ClipValue, FormatSchedule(opt.Schedule));
        return JsonSerializer.Serialize(dto, Json);
    }

    public static TrainingOptions Deserialize(string json, string modelSpecYaml)
    {
        var dto = JsonSerializer.Deserialize<OptionsDto>(json, Json) ?? throw new FormatException("The options JSON is empty.");
        return new TrainingOptions
        {
            Model = ModelSpec.Parse(modelSpecYaml),
            Optimizer = new OptimizerOptions(dto.Optimizer, dto.LearningRate, dto.Momentum, dto.Nesterov, dto.WeightDecay,
                dto.Beta1, dto.Beta2, dto.Epsilon, dto.ClipGlobalNorm, dto.ClipValue, ParseSchedule(dto.Schedule)),
            Epochs = dto.Epochs,
            BatchSize = dto.BatchSize,
            VirtualShards = dto.VirtualShards,
            Seed = dto.Seed,
            MaxSteps = dto.MaxSteps,
            SkipNonFiniteSteps = dto.SkipNonFiniteSteps,
        };
    }

    public static string FormatSchedule(LearningRateSchedule? schedule) => schedule switch
    {
        null or LearningRateSchedule.Constant => "constant",
        LearningRateSchedule.StepDecay s => string.Create(CultureInfo.InvariantCulture, $"step:{s.StepSize}:{s.Gamma:R}"),
        LearningRateSchedule.Cosine c => string.Create(CultureInfo.InvariantCulture, $"cosine:{c.MinFactor:R}:{c.WarmupSteps}"),
        _ => throw new ArgumentException($"Schedule {schedule.GetType().Name} has no text form."),
    };

    /// <summary>Parses the command-line schedule syntax; the message of a failure shows the accepted forms.</summary>
    public static LearningRateSchedule? ParseSchedule(string? text)
    {
        const string forms = "use 'constant', 'step:STEPS:GAMMA' (e.g. step:1000:0.1) or 'cosine[:MIN_FACTOR[:WARMUP_STEPS]]'";
        if (string.IsNullOrWhiteSpace(text) || text == "constant") return null;
        var parts = text.Split(':');
        try
        {
            return parts[0] switch
            {
                "step" when parts.Length == 3 => new LearningRateSchedule.StepDecay(long.Parse(parts[1], CultureInfo.InvariantCulture), float.Parse(parts[2], CultureInfo.InvariantCulture)),
                "cosine" when parts.Length <= 3 => new LearningRateSchedule.Cosine(
                    parts.Length > 1 ? float.Parse(parts[1], CultureInfo.InvariantCulture) : 0f,
                    parts.Length > 2 ? long.Parse(parts[2], CultureInfo.InvariantCulture) : 0),
                _ => throw new ArgumentException($"Unknown learning-rate schedule '{text}': {forms}."),
            };
        }
        catch (FormatException)
        {
            throw new ArgumentException($"Malformed learning-rate schedule '{text}': {forms}.");
        }
    }
}

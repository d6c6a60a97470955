using System.Text.Json;
using System.Text.Json.Serialization;
using ParallelNet.Training;

namespace ParallelNet.Cli.Output;

/// <summary>`--json`: one JSON object per line; the last one is the summary.</summary>
internal sealed class JsonLinesObserver(TextWriter output) : ITrainingObserver
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    private const int StepEventInterval = 50;

    public void OnStep(StepCompleted step)
    {
        if (step.Step % StepEventInterval == 0 || step.StepInEpoch == step.StepsInEpoch || step.Skipped)
            Write(output, "step", step with { Epoch = step.Epoch + 1 });
    }

    public void OnEpoch(EpochCompleted epoch) => Write(output, "epoch", epoch with { Epoch = epoch.Epoch + 1 });
    public void OnCheckpoint(CheckpointWritten checkpoint) => Write(output, "checkpoint", checkpoint);

    /// <summary>Joins and losses always; a worker's running totals every <see cref="StepEventInterval"/> steps.</summary>
    public void OnWorker(WorkerActivity activity)
    {
        if (activity.Status != WorkerStatus.Working || activity.Step % StepEventInterval == 0)
            Write(output, "worker", activity);
    }

    public static void WriteSummary(TextWriter output, TrainingSummary summary) => Write(output, "summary", summary);

    internal static void Write<T>(TextWriter output, string kind, T payload)
    {
        var element = JsonSerializer.SerializeToElement(payload, Options);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("event", kind);
            foreach (var property in element.EnumerateObject()) property.WriteTo(writer);
            writer.WriteEndObject();
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
        output.Flush();
    }
}

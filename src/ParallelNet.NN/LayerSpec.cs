namespace ParallelNet.NN;

/// <summary>
/// One entry of a model spec's layer list: a type name (e.g. "conv2d") and its options as scalar text
/// (e.g. out: "32", padding: "same"), in the order written. The options each type accepts are listed
/// in ModelSpec's documentation.
/// </summary>
public sealed class LayerSpec
{
    public LayerSpec(string type, IEnumerable<KeyValuePair<string, string>>? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(type);
        Type = type;
        var ordered = new List<KeyValuePair<string, string>>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var option in options ?? [])
        {
            if (option.Key == "type") throw new ArgumentException($"'type' is the layer type, not an option (layer type {type}).");
            if (!seen.Add(option.Key)) throw new ArgumentException($"Option '{option.Key}' appears twice in a {type} layer.");
            ordered.Add(option);
        }
        Options = ordered;
    }

    /// <summary>Shorthand: new LayerSpec("conv2d", ("out", 32), ("kernel", 3)).</summary>
    public LayerSpec(string type, params (string Key, object Value)[] options)
        : this(type, options.Select(o => new KeyValuePair<string, string>(o.Key, FormatValue(o.Value))))
    {
    }

    public string Type { get; }
    public IReadOnlyList<KeyValuePair<string, string>> Options { get; }

    public string? this[string key] => Options.FirstOrDefault(o => o.Key == key).Value;

    private static string FormatValue(object value) => value switch
    {
        bool b => b ? "true" : "false",
        float f => f.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        double d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}

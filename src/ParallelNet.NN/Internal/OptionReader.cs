using System.Globalization;
using ParallelNet.NN.Initializers;

namespace ParallelNet.NN.Internal;

/// <summary>Typed access to one layer's options; every error names the layer index, its type and the option.</summary>
internal sealed class OptionReader(int index, LayerSpec spec)
{
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);

    public ModelSpecException Error(string message) => new($"layer {index} ({spec.Type}): {message}");

    public int Int(string name, int? fallback = null, int min = int.MinValue)
    {
        string? text = Raw(name);
        if (text is null) return fallback ?? throw Error($"missing required option '{name}'.");
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value))
            throw Error($"option '{name}' must be an integer, got '{text}'.");
        if (value < min) throw Error($"option '{name}' must be at least {min}, got {value}.");
        return value;
    }

    public float Float(string name, float fallback)
    {
        string? text = Raw(name);
        if (text is null) return fallback;
        if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) || !float.IsFinite(value))
            throw Error($"option '{name}' must be a finite number, got '{text}'.");
        return value;
    }

    public bool Bool(string name, bool fallback)
    {
        string? text = Raw(name);
        return text switch
        {
            null => fallback,
            "true" or "True" => true,
            "false" or "False" => false,
            _ => throw Error($"option '{name}' must be true or false, got '{text}'."),
        };
    }

    public InitScheme Init()
    {
        string? text = Raw("init");
        if (text is null) return InitScheme.PyTorch;
        return InitSchemeNames.TryParse(text, out var scheme)
            ? scheme
            : throw Error($"option 'init' must be one of {string.Join(", ", InitSchemeNames.All)}, got '{text}'.");
    }

    /// <summary>Returns the option's text (null when absent) and records it as known.</summary>
    public string? Raw(string name)
    {
        _known.Add(name);
        return spec[name];
    }

    /// <summary>Call after reading every option the type accepts: rejects the rest (typos such as "kernal").</summary>
    public void RejectUnknown()
    {
        foreach (var (key, _) in spec.Options)
        {
            if (_known.Contains(key)) continue;
            string accepted = _known.Count == 0 ? "it takes no options" : "accepted: " + string.Join(", ", _known);
            throw Error($"unknown option '{key}' ({accepted}).");
        }
    }
}

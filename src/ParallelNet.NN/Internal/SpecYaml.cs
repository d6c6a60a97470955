using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using ParallelNet.NN.Losses;
using ParallelNet.Tensors;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ParallelNet.NN.Internal;

/// <summary>Reads and writes <see cref="ModelSpec"/> as YAML (JSON being a subset), with errors that say where and what.</summary>
internal static partial class SpecYaml
{
    private static readonly string[] TopLevelKeys = ["input", "layers", "loss", "l2"];

    public static ModelSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new ModelSpecException($"Model spec is not valid YAML/JSON at line {e.Start.Line}, column {e.Start.Column}: {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            // YamlDotNet reports some unterminated structures this way instead of as a YamlException.
            throw new ModelSpecException("Model spec is not valid YAML/JSON: the text ends inside a structure (an unclosed [ or { ?).", e);
        }
        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new ModelSpecException("Model spec must be one mapping with the keys input, layers, loss and optionally l2.");

        YamlNode? input = null, layers = null, loss = null, l2 = null;
        foreach (var (keyNode, value) in root.Children)
        {
            string key = ((keyNode as YamlScalarNode)?.Value) ?? "";
            switch (key)
            {
                case "input": input = value; break;
                case "layers": layers = value; break;
                case "loss": loss = value; break;
                case "l2": l2 = value; break;
                default: throw new ModelSpecException($"Unknown top-level key '{key}' (line {keyNode.Start.Line}); expected {string.Join(", ", TopLevelKeys)}.");
            }
        }

        var inputShape = ParseInput(input ?? throw new ModelSpecException("Model spec is missing 'input' (the per-sample shape, e.g. [1, 28, 28])."));
        var layerSpecs = ParseLayers(layers ?? throw new ModelSpecException("Model spec is missing 'layers' (a list of layers, each with a 'type')."));
        string lossName = Scalar(loss ?? throw new ModelSpecException($"Model spec is missing 'loss' (one of {string.Join(", ", LossNames.All)})."), "loss");
        if (!LossNames.TryParse(lossName, out var lossKind))
            throw new ModelSpecException($"Unknown loss '{lossName}'; expected one of {string.Join(", ", LossNames.All)}.");
        float lambda = 0f;
        if (l2 is not null)
        {
            string l2Text = Scalar(l2, "l2");
            if (!float.TryParse(l2Text, NumberStyles.Float, CultureInfo.InvariantCulture, out lambda))
                throw new ModelSpecException($"l2 must be a number, got '{l2Text}'.");
        }
        return new ModelSpec(inputShape, layerSpecs, lossKind, lambda);
    }

    public static string Emit(ModelSpec spec)
    {
        var sb = new StringBuilder();
        sb.Append("input: [").Append(string.Join(", ", spec.Input.ToArray())).Append("]\n");
        sb.Append("loss: ").Append(LossNames.ToName(spec.Loss)).Append('\n');
        sb.Append("l2: ").Append(spec.L2.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        sb.Append("layers:\n");
        foreach (var layer in spec.Layers)
        {
            sb.Append("  - type: ").Append(Quote(layer.Type)).Append('\n');
            foreach (var (key, value) in layer.Options) sb.Append("    ").Append(Quote(key)).Append(": ").Append(Quote(value)).Append('\n');
        }
        return sb.ToString();
    }

    private static Shape ParseInput(YamlNode node)
    {
        if (node is not YamlSequenceNode seq || seq.Children.Count == 0)
            throw new ModelSpecException($"input must be a non-empty list of positive integers like [1, 28, 28] (line {node.Start.Line}).");
        var dims = new int[seq.Children.Count];
        for (int i = 0; i < dims.Length; i++)
        {
            string text = Scalar(seq.Children[i], "input");
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out dims[i]) || dims[i] <= 0)
                throw new ModelSpecException($"input dimension {i} must be a positive integer, got '{text}'.");
        }
        return new Shape(dims);
    }

    private static List<LayerSpec> ParseLayers(YamlNode node)
    {
        if (node is not YamlSequenceNode seq) throw new ModelSpecException($"layers must be a list (line {node.Start.Line}).");
        var result = new List<LayerSpec>();
        for (int index = 0; index < seq.Children.Count; index++)
        {
            if (seq.Children[index] is not YamlMappingNode map)
                throw new ModelSpecException($"layer {index}: must be a mapping with a 'type' key, like {{type: relu}} (line {seq.Children[index].Start.Line}).");
            string? type = null;
            var options = new List<KeyValuePair<string, string>>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (keyNode, value) in map.Children)
            {
                string key = (keyNode as YamlScalarNode)?.Value ?? "";
                if (!seen.Add(key)) throw new ModelSpecException($"layer {index}: option '{key}' appears twice.");
                if (value is not YamlScalarNode scalar)
                    throw new ModelSpecException($"layer {index}: option '{key}' must be a single value, not a list or mapping (line {value.Start.Line}).");
                if (key == "type") type = scalar.Value;
                else options.Add(new(key, scalar.Value ?? ""));
            }
            if (string.IsNullOrWhiteSpace(type)) throw new ModelSpecException($"layer {index}: missing 'type' (line {map.Start.Line}).");
            result.Add(new LayerSpec(type, options));
        }
        return result;
    }

    private static string Scalar(YamlNode node, string what) => node is YamlScalarNode s
        ? s.Value ?? ""
        : throw new ModelSpecException($"{what} must be a single value (line {node.Start.Line}).");

    private static string Quote(string text) => PlainScalar().IsMatch(text) ? text : "'" + text.Replace("'", "''") + "'";

    [GeneratedRegex(@"^[A-Za-z0-9_.+\-]+$")]
    private static partial Regex PlainScalar();
}

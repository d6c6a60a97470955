namespace ParallelNet.NN.Losses;

/// <summary>
/// The training objective (spec key <c>loss</c>). Every loss is the SUM over the shard's samples; the
/// parameter server divides by the global batch size. Targets per sample: a class index for
/// <see cref="CrossEntropy"/> and <see cref="Hinge"/>, one value per output otherwise.
/// </summary>
public enum LossKind
{
    /// <summary>Softmax cross-entropy on logits, PyTorch F.cross_entropy(reduction="sum"). Spec name <c>cross_entropy</c>.</summary>
    CrossEntropy,
    /// <summary>Binary cross-entropy on logits, targets in [0, 1], F.binary_cross_entropy_with_logits(reduction="sum"). Spec name <c>bce</c>.</summary>
    BinaryCrossEntropy,
    /// <summary>Half squared error ½ Σ (p - t)² (the course's MSE; mean over the batch comes from the server's division). Spec name <c>mse</c>.</summary>
    MeanSquaredError,
    /// <summary>Multiclass hinge (Weston-Watkins, margin 1): Σ_{j≠y} max(0, s_j - s_y + 1). Spec name <c>hinge</c>.</summary>
    Hinge,
    /// <summary>
    /// The perceptron rule: ½ (ŷ - y)² on the 0/1 outputs of a final <c>step</c> layer, whose backward is
    /// straight-through, so the gradient at the pre-activation is ŷ - y and plain SGD (no momentum, no
    /// weight decay) with learning rate lr gives exactly w += lr (y - ŷ) x per sample (averaged over the
    /// batch; batch size 1 is Rosenblatt's online rule). The loss value is half the number of mistakes.
    /// Spec name <c>perceptron</c>.
    /// </summary>
    Perceptron,
}

/// <summary>Spec names of <see cref="LossKind"/>.</summary>
public static class LossNames
{
    private static readonly (string Name, LossKind Kind)[] Table =
    [
        ("cross_entropy", LossKind.CrossEntropy), ("bce", LossKind.BinaryCrossEntropy), ("mse", LossKind.MeanSquaredError),
        ("hinge", LossKind.Hinge), ("perceptron", LossKind.Perceptron),
    ];

    public static IReadOnlyList<string> All => Table.Select(t => t.Name).ToArray();

    public static bool TryParse(string name, out LossKind kind)
    {
        foreach (var (n, k) in Table)
        {
            if (n == name) { kind = k; return true; }
        }
        kind = default;
        return false;
    }

    public static string ToName(LossKind kind) => Table.First(t => t.Kind == kind).Name;

    /// <summary>True when the target of a sample is one class index (so TargetSize is 1 and accuracy is arg-max).</summary>
    public static bool UsesClassLabels(LossKind kind) => kind is LossKind.CrossEntropy or LossKind.Hinge;
}

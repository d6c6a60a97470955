using ParallelNet.Tensors;

namespace ParallelNet.NN.Losses;

/// <summary>Evaluates a <see cref="LossKind"/> on a shard: the summed loss, its gradient, and the number of correct predictions.</summary>
internal sealed class LossFunction
{
    private readonly ICompute _compute;
    private readonly float[] _hostOutputs;

    public LossFunction(LossKind kind, ICompute compute, int maxBatch, int outputSize)
    {
        if (LossNames.UsesClassLabels(kind) && outputSize < 2)
            throw new ArgumentException($"{LossNames.ToName(kind)} needs at least 2 class scores per sample, but the last layer gives {outputSize}.");
        Kind = kind;
        _compute = compute;
        OutputSize = outputSize;
        // Accuracy of threshold losses is counted on the host; this buffer is the only host scratch and is allocated once.
        _hostOutputs = LossNames.UsesClassLabels(kind) || kind == LossKind.MeanSquaredError ? [] : new float[maxBatch * outputSize];
    }

    public LossKind Kind { get; }
    public int OutputSize { get; }

    /// <summary>Floats per sample in the targets buffer.</summary>
    public int TargetSize => LossNames.UsesClassLabels(Kind) ? 1 : OutputSize;

    // loss: outputs [n, out], targets [n] (labels) or [n, out] -> Σ loss, doutputs [n, out] = d(Σ loss)/d(outputs)
    public double Compute(Tensor outputs, Tensor targets, Tensor doutputs) => Kind switch
    {
        LossKind.CrossEntropy => _compute.SoftmaxCrossEntropy(outputs, targets, doutputs, 1f),
        LossKind.BinaryCrossEntropy => _compute.BinaryCrossEntropyWithLogits(outputs, targets, doutputs, 1f),
        LossKind.MeanSquaredError or LossKind.Perceptron => _compute.HalfSquaredError(outputs, targets, doutputs, 1f),
        LossKind.Hinge => _compute.MulticlassHinge(outputs, targets, doutputs, 1f),
        _ => throw new InvalidOperationException($"Unknown loss {Kind}."),
    };

    /// <summary>Samples predicted right: arg-max for class labels, every output on the right side of the threshold for bce/perceptron, 0 for regression.</summary>
    public int CountCorrect(Tensor outputs, Tensor targets, ReadOnlySpan<float> hostTargets)
    {
        if (LossNames.UsesClassLabels(Kind)) return _compute.CountCorrect(outputs, targets);
        if (Kind == LossKind.MeanSquaredError) return 0;
        int n = outputs.Shape[0];
        var host = _hostOutputs.AsSpan(0, n * OutputSize);
        _compute.Download(outputs, host);
        // bce outputs are logits (positive means class 1); perceptron outputs are already 0 or 1.
        float threshold = Kind == LossKind.BinaryCrossEntropy ? 0f : 0.5f;
        int correct = 0;
        for (int s = 0; s < n; s++)
        {
            bool allRight = true;
            for (int j = 0; j < OutputSize; j++)
            {
                int i = s * OutputSize + j;
                allRight &= (host[i] > threshold) == (hostTargets[i] > 0.5f);
            }
            if (allRight) correct++;
        }
        return correct;
    }
}

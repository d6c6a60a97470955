using System.Numerics.Tensors;
using ParallelNet.Tensors.Cpu.Internal;

namespace ParallelNet.Tensors.Cpu.Kernels;

/// <summary>
/// Loss kernels: each returns the loss summed over samples (in double, ascending sample order) and
/// writes gradient = d(sum)/d(input) * gradScale.
/// </summary>
public static class Losses
{
    /// <summary>Σ_n (log Σ_j exp(x_nj) - x_n,label); dlogits = (softmax(x) - onehot) * gradScale.</summary>
    public static double SoftmaxCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<float> labels, Span<float> dlogits, float gradScale)
    {
        const string op = "SoftmaxCrossEntropy";
        KernelChecks.SameLength(op, logits.Length, dlogits.Length, "logits", "dlogits");
        if (labels.Length == 0)
        {
            KernelChecks.Length(op, "logits", logits.Length, 0);
            return 0;
        }
        KernelChecks.DivisibleBy(op, "logits", logits.Length, labels.Length, "number of labels");
        int classes = logits.Length / labels.Length;
        KernelChecks.Positive(op, "classes", classes);
        double total = 0;
        for (int r = 0; r < labels.Length; r++)
        {
            int label = KernelChecks.Label(op, labels[r], r, classes);
            var row = logits.Slice(r * classes, classes);
            var grad = dlogits.Slice(r * classes, classes);
            float shift = TensorPrimitives.Max(row);
            TensorPrimitives.Subtract(row, shift, grad);
            float logSum = Softmax.LogSumExpOfShifted(grad);
            total += logSum - grad[label];
            // softmax = exp(shifted - logSum); reusing the shifted row keeps the gradient consistent with the loss.
            TensorPrimitives.Subtract(grad, logSum, grad);
            TensorPrimitives.Exp(grad, grad);
            grad[label] -= 1f;
            TensorPrimitives.Multiply(grad, gradScale, grad);
        }
        return total;
    }

    /// <summary>Σ max(x, 0) - x t + log(1 + exp(-|x|)) (PyTorch's stable form); grad = (sigmoid(x) - t) * gradScale.</summary>
    public static double BinaryCrossEntropyWithLogits(ReadOnlySpan<float> logits, ReadOnlySpan<float> targets, Span<float> dlogits, float gradScale)
    {
        const string op = "BinaryCrossEntropyWithLogits";
        KernelChecks.SameLength(op, logits.Length, targets.Length, "logits", "targets");
        KernelChecks.SameLength(op, logits.Length, dlogits.Length, "logits", "dlogits");
        double total = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            float x = logits[i], t = targets[i];
            float e = MathF.Exp(-MathF.Abs(x));
            total += MathF.Max(x, 0f) - x * t + MathF.Log(1f + e);
            // sigmoid(x) from e = exp(-|x|) without overflow for either sign.
            float sigmoid = x >= 0f ? 1f / (1f + e) : e / (1f + e);
            dlogits[i] = (sigmoid - t) * gradScale;
        }
        return total;
    }

    /// <summary>Σ ½ (p - t)²; grad = (p - t) * gradScale.</summary>
    public static double HalfSquaredError(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets, Span<float> dpredictions, float gradScale)
    {
        const string op = "HalfSquaredError";
        KernelChecks.SameLength(op, predictions.Length, targets.Length, "predictions", "targets");
        KernelChecks.SameLength(op, predictions.Length, dpredictions.Length, "predictions", "dpredictions");
        double total = 0;
        for (int i = 0; i < predictions.Length; i++)
        {
            float d = predictions[i] - targets[i];
            total += 0.5 * d * d;
            dpredictions[i] = d * gradScale;
        }
        return total;
    }

    /// <summary>Weston-Watkins multiclass hinge with margin 1: Σ_n Σ_{j≠y} max(0, s_j - s_y + 1).</summary>
    public static double MulticlassHinge(ReadOnlySpan<float> scores, ReadOnlySpan<float> labels, Span<float> dscores, float gradScale)
    {
        const string op = "MulticlassHinge";
        KernelChecks.SameLength(op, scores.Length, dscores.Length, "scores", "dscores");
        if (labels.Length == 0)
        {
            KernelChecks.Length(op, "scores", scores.Length, 0);
            return 0;
        }
        KernelChecks.DivisibleBy(op, "scores", scores.Length, labels.Length, "number of labels");
        int classes = scores.Length / labels.Length;
        KernelChecks.Positive(op, "classes", classes);
        double total = 0;
        for (int r = 0; r < labels.Length; r++)
        {
            int label = KernelChecks.Label(op, labels[r], r, classes);
            var row = scores.Slice(r * classes, classes);
            var grad = dscores.Slice(r * classes, classes);
            float correct = row[label];
            float violations = 0f;
            for (int j = 0; j < classes; j++)
            {
                float margin = row[j] - correct + 1f;
                if (j != label && margin > 0f)
                {
                    total += margin;
                    grad[j] = gradScale;
                    violations += 1f;
                }
                else grad[j] = 0f;
            }
            grad[label] = -violations * gradScale;
        }
        return total;
    }

    /// <summary>Rows whose first arg-max equals the label.</summary>
    public static int CountCorrect(ReadOnlySpan<float> scores, ReadOnlySpan<float> labels)
    {
        const string op = "CountCorrect";
        if (labels.Length == 0) return 0;
        KernelChecks.DivisibleBy(op, "scores", scores.Length, labels.Length, "number of labels");
        int classes = scores.Length / labels.Length;
        KernelChecks.Positive(op, "classes", classes);
        int correct = 0;
        for (int r = 0; r < labels.Length; r++)
        {
            int label = KernelChecks.Label(op, labels[r], r, classes);
            var row = scores.Slice(r * classes, classes);
            int arg = 0;
            for (int j = 1; j < classes; j++)
            {
                if (row[j] > row[arg]) arg = j;
            }
            if (arg == label) correct++;
        }
        return correct;
    }
}

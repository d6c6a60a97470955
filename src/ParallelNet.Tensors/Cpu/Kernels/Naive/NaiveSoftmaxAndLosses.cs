namespace ParallelNet.Tensors.Cpu.Kernels.Naive;

/// <summary>Reference twins of <see cref="Softmax"/> and <see cref="Losses"/>, in double throughout.</summary>
public static class NaiveSoftmaxAndLosses
{
    public static void Softmax(ReadOnlySpan<float> x, Span<float> y, int cols)
    {
        for (int r = 0; r < x.Length / cols; r++)
        {
            double max = double.NegativeInfinity, sum = 0;
            for (int j = 0; j < cols; j++) max = Math.Max(max, x[r * cols + j]);
            for (int j = 0; j < cols; j++) sum += Math.Exp(x[r * cols + j] - max);
            for (int j = 0; j < cols; j++) y[r * cols + j] = (float)(Math.Exp(x[r * cols + j] - max) / sum);
        }
    }

    public static void LogSoftmax(ReadOnlySpan<float> x, Span<float> y, int cols)
    {
        for (int r = 0; r < x.Length / cols; r++)
        {
            double logSum = LogSumExp(x.Slice(r * cols, cols));
            for (int j = 0; j < cols; j++) y[r * cols + j] = (float)(x[r * cols + j] - logSum);
        }
    }

    /// <summary>dx_j = Σ_k dy_k ∂y_k/∂x_j with the full Jacobian y_k (δ_kj - y_j).</summary>
    public static void SoftmaxBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, int cols)
    {
        for (int r = 0; r < y.Length / cols; r++)
        for (int j = 0; j < cols; j++)
        {
            double sum = 0;
            for (int k = 0; k < cols; k++)
                sum += (double)dy[r * cols + k] * y[r * cols + k] * ((k == j ? 1.0 : 0.0) - y[r * cols + j]);
            dx[r * cols + j] = (float)sum;
        }
    }

    public static double SoftmaxCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<float> labels, Span<float> dlogits, float gradScale)
    {
        int classes = logits.Length / labels.Length;
        double total = 0;
        for (int r = 0; r < labels.Length; r++)
        {
            var row = logits.Slice(r * classes, classes);
            double logSum = LogSumExp(row);
            int label = (int)labels[r];
            total += logSum - row[label];
            for (int j = 0; j < classes; j++)
                dlogits[r * classes + j] = (float)((Math.Exp(row[j] - logSum) - (j == label ? 1 : 0)) * gradScale);
        }
        return total;
    }

    /// <summary>-[t log σ(x) + (1-t) log(1-σ(x))], the textbook definition (in double, where it does not overflow for moderate x).</summary>
    public static double BinaryCrossEntropyWithLogits(ReadOnlySpan<float> logits, ReadOnlySpan<float> targets, Span<float> dlogits, float gradScale)
    {
        double total = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            double s = 1.0 / (1.0 + Math.Exp(-(double)logits[i]));
            total -= targets[i] * Math.Log(s) + (1 - targets[i]) * Math.Log(1 - s);
            dlogits[i] = (float)((s - targets[i]) * gradScale);
        }
        return total;
    }

    public static double HalfSquaredError(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets, Span<float> dpredictions, float gradScale)
    {
        double total = 0;
        for (int i = 0; i < predictions.Length; i++)
        {
            double d = (double)predictions[i] - targets[i];
            total += 0.5 * d * d;
            dpredictions[i] = (float)(d * gradScale);
        }
        return total;
    }

    public static double MulticlassHinge(ReadOnlySpan<float> scores, ReadOnlySpan<float> labels, Span<float> dscores, float gradScale)
    {
        int classes = scores.Length / labels.Length;
        double total = 0;
        dscores.Clear();
        for (int r = 0; r < labels.Length; r++)
        {
            int label = (int)labels[r];
            for (int j = 0; j < classes; j++)
            {
                if (j == label) continue;
                double margin = (double)scores[r * classes + j] - scores[r * classes + label] + 1;
                if (margin <= 0) continue;
                total += margin;
                dscores[r * classes + j] += gradScale;
                dscores[r * classes + label] -= gradScale;
            }
        }
        return total;
    }

    private static double LogSumExp(ReadOnlySpan<float> row)
    {
        double max = double.NegativeInfinity, sum = 0;
        foreach (float v in row) max = Math.Max(max, v);
        foreach (float v in row) sum += Math.Exp(v - max);
        return max + Math.Log(sum);
    }
}

using System.Numerics.Tensors;

namespace ParallelNet.NN.Word2Vec.Internal;

/// <summary>One logistic step of negative sampling: the target's output row against the hidden vector.</summary>
internal interface ISgnsKernel
{
    /// <summary>
    /// With s = σ(hidden · output) and step g = learningRate·(label - s): hiddenGradient += g·output, then
    /// output += g·hidden. Returns the step's loss -log σ(±hidden · output).
    /// </summary>
    double Update(ReadOnlySpan<float> hidden, Span<float> hiddenGradient, Span<float> output, float label, float learningRate);
}

/// <summary>Vectorized (TensorPrimitives) kernel.</summary>
internal readonly struct FastSgnsKernel : ISgnsKernel
{
    public double Update(ReadOnlySpan<float> hidden, Span<float> hiddenGradient, Span<float> output, float label, float learningRate)
    {
        float score = TensorPrimitives.Dot(hidden, output);
        float probability = 1f / (1f + MathF.Exp(-score));
        float step = learningRate * (label - probability);
        TensorPrimitives.MultiplyAdd(output, step, hiddenGradient, hiddenGradient);
        TensorPrimitives.MultiplyAdd(hidden, step, output, output);
        return LogisticLoss(score, label);
    }

    // -log σ(z) = log(1 + e^-z), in the form that cannot overflow.
    internal static double LogisticLoss(double score, float label)
    {
        double z = label > 0.5f ? score : -score;
        return z > 0 ? Math.Log(1 + Math.Exp(-z)) : -z + Math.Log(1 + Math.Exp(z));
    }
}

/// <summary>Reference twin: scalar loops with the dot product in double.</summary>
internal readonly struct NaiveSgnsKernel : ISgnsKernel
{
    public double Update(ReadOnlySpan<float> hidden, Span<float> hiddenGradient, Span<float> output, float label, float learningRate)
    {
        double score = 0;
        for (int i = 0; i < hidden.Length; i++) score += (double)hidden[i] * output[i];
        double step = learningRate * (label - 1.0 / (1.0 + Math.Exp(-score)));
        for (int i = 0; i < hidden.Length; i++) hiddenGradient[i] += (float)(step * output[i]);
        for (int i = 0; i < hidden.Length; i++) output[i] += (float)(step * hidden[i]);
        return FastSgnsKernel.LogisticLoss(score, label);
    }
}

using System.Globalization;
using System.Numerics;
using ParallelNet.Tensors.Cpu.Internal;

namespace ParallelNet.Tensors.Cpu.Kernels;

/// <summary>Parameter updates with PyTorch 1.13's single-tensor (non-foreach) formulas, in float32 like torch.</summary>
public static class Optimizers
{
    /// <summary>torch.optim.SGD (dampening 0): g = grad + wd*w; v = momentum*v + g (v = g on the first step); w -= lr * (nesterov ? g + momentum*v : v).</summary>
    public static void SgdStep(Span<float> weights, ReadOnlySpan<float> gradients, Span<float> velocity, float learningRate, float momentum,
        float weightDecay, bool nesterov, bool firstStep)
    {
        const string op = "SgdStep";
        KernelChecks.SameLength(op, weights.Length, gradients.Length, "weights", "gradients");
        if (momentum != 0f) KernelChecks.SameLength(op, weights.Length, velocity.Length, "weights", "velocity");
        if (nesterov && momentum <= 0f) throw new ArgumentException($"{op}: Nesterov momentum requires momentum > 0, got {momentum}.");
        // The same float operations in the same order as the scalar tail, so every lane gets the scalar's bits.
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vDecay = new Vector<float>(weightDecay);
            var vMomentum = new Vector<float>(momentum);
            var vRate = new Vector<float>(learningRate);
            for (; i <= weights.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var w = new Vector<float>(weights[i..]);
                var g = new Vector<float>(gradients[i..]);
                if (weightDecay != 0f) g += vDecay * w;
                if (momentum != 0f)
                {
                    var v = firstStep ? g : vMomentum * new Vector<float>(velocity[i..]) + g;
                    v.CopyTo(velocity[i..]);
                    g = nesterov ? g + vMomentum * v : v;
                }
                (w - vRate * g).CopyTo(weights[i..]);
            }
        }
        for (; i < weights.Length; i++)
        {
            float g = gradients[i];
            if (weightDecay != 0f) g += weightDecay * weights[i];
            if (momentum != 0f)
            {
                float v = firstStep ? g : momentum * velocity[i] + g;
                velocity[i] = v;
                g = nesterov ? g + momentum * v : v;
            }
            weights[i] -= learningRate * g;
        }
    }

    /// <summary>
    /// torch.optim.Adam (decoupled = false: g += wd*w) or AdamW (decoupled = true: w *= 1 - lr*wd), without amsgrad:
    /// m = β1 m + (1-β1) g; v = β2 v + (1-β2) g²; w -= lr/(1-β1^t) * m / (sqrt(v)/sqrt(1-β2^t) + eps).
    /// </summary>
    public static void AdamStep(Span<float> weights, ReadOnlySpan<float> gradients, Span<float> firstMoment, Span<float> secondMoment,
        float learningRate, float beta1, float beta2, float epsilon, float weightDecay, bool decoupled, long step)
    {
        const string op = "AdamStep";
        KernelChecks.SameLength(op, weights.Length, gradients.Length, "weights", "gradients");
        KernelChecks.SameLength(op, weights.Length, firstMoment.Length, "weights", "firstMoment");
        KernelChecks.SameLength(op, weights.Length, secondMoment.Length, "weights", "secondMoment");
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), $"{op}: step counts from 1, got {step}.");
        // torch gets these scalars from Python doubles (0.999, not 0.999f) and rounds each to float
        // once; 1 - 0.999f in float would be 1.3e-5 away from torch's (float)(1 - 0.999).
        double b1 = PythonValue(beta1), b2 = PythonValue(beta2), rate = PythonValue(learningRate);
        float oneMinusBeta1 = (float)(1.0 - b1), oneMinusBeta2 = (float)(1.0 - b2);
        float stepSize = (float)(rate / (1.0 - Math.Pow(b1, step)));
        float correction2 = (float)Math.Sqrt(1.0 - Math.Pow(b2, step));
        float decay = decoupled ? (float)(1.0 - rate * PythonValue(weightDecay)) : 1f;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vDecay = new Vector<float>(decay);
            var vWeightDecay = new Vector<float>(weightDecay);
            var vBeta1 = new Vector<float>(beta1);
            var vBeta2 = new Vector<float>(beta2);
            var vOneMinusBeta1 = new Vector<float>(oneMinusBeta1);
            var vOneMinusBeta2 = new Vector<float>(oneMinusBeta2);
            var vStepSize = new Vector<float>(stepSize);
            var vCorrection2 = new Vector<float>(correction2);
            var vEpsilon = new Vector<float>(epsilon);
            for (; i <= weights.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var w = new Vector<float>(weights[i..]);
                var g = new Vector<float>(gradients[i..]);
                if (decoupled) w *= vDecay;
                else if (weightDecay != 0f) g += vWeightDecay * w;
                var m = vBeta1 * new Vector<float>(firstMoment[i..]) + vOneMinusBeta1 * g;
                var v = vBeta2 * new Vector<float>(secondMoment[i..]) + vOneMinusBeta2 * g * g;
                m.CopyTo(firstMoment[i..]);
                v.CopyTo(secondMoment[i..]);
                var denominator = Vector.SquareRoot(v) / vCorrection2 + vEpsilon;
                (w - vStepSize * (m / denominator)).CopyTo(weights[i..]);
            }
        }
        for (; i < weights.Length; i++)
        {
            float w = weights[i];
            float g = gradients[i];
            if (decoupled) w *= decay;
            else if (weightDecay != 0f) g += weightDecay * w;
            float m = beta1 * firstMoment[i] + oneMinusBeta1 * g;
            float v = beta2 * secondMoment[i] + oneMinusBeta2 * g * g;
            firstMoment[i] = m;
            secondMoment[i] = v;
            float denominator = MathF.Sqrt(v) / correction2 + epsilon;
            weights[i] = w - stepSize * (m / denominator);
        }
    }

    /// <summary>The double a user meant by this float: its shortest round-trip decimal (0.999f gives 0.999), as Python would hold it.</summary>
    private static double PythonValue(float value) => double.Parse(value.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}

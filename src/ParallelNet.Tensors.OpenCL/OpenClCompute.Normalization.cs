using ParallelNet.Tensors.OpenCL.Internal;

namespace ParallelNet.Tensors.OpenCL;

public sealed partial class OpenClCompute
{
    // ---- batch norm: per-plane partial sums, then per-channel kernels that add the planes in ascending sample order ----

    public void BatchNormForwardTraining(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor savedMean, Tensor savedInvStd, Tensor unbiasedVariance, int channels, float epsilon)
    {
        const string op = "BatchNormForwardTraining";
        int inner = ValidateBatchNorm(op, x, y, channels, out int samples);
        foreach (var (name, t) in new[] { ("gamma", gamma), ("beta", beta), ("savedMean", savedMean), ("savedInvStd", savedInvStd), ("unbiasedVariance", unbiasedVariance) })
            Checks.Length(op, name, t.Length, channels);
        long count = (long)samples * inner;
        if (count < 2)
            throw new ArgumentException($"{op}: expected more than 1 value per channel when training, got [{samples}, {channels}, {inner}].");
        lock (_sync)
        {
            int planes = samples * channels;
            var partials = AccumulatorScratch(Scratch.Partials, planes);
            var stats = AccumulatorScratch(Scratch.Reduced, channels);
            var affine = ScratchBuffer(Scratch.Affine, 2L * channels * sizeof(float));
            _runtime.Launch("plane_sums", planes, Arg(x, op), inner, partials);
            _runtime.Launch("batch_norm_mean", channels, partials, stats, samples, channels, count);
            _runtime.Launch("batch_norm_square_partials", planes, Arg(x, op), stats, channels, inner, partials);
            _runtime.Launch("batch_norm_finish_training", channels, partials, stats, Arg(gamma, op), Arg(beta, op),
                Arg(savedMean, op), Arg(savedInvStd, op), Arg(unbiasedVariance, op), affine, samples, channels, count, epsilon);
            _runtime.Launch("batch_norm_apply", x.Length, Arg(x, op), Arg(y, op), affine, channels, inner);
        }
    }

    public void BatchNormForwardInference(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVariance, Tensor y, int channels, float epsilon)
    {
        const string op = "BatchNormForwardInference";
        if (x.Length == 0) return;
        int inner = ValidateBatchNorm(op, x, y, channels, out _);
        foreach (var (name, t) in new[] { ("gamma", gamma), ("beta", beta), ("runningMean", runningMean), ("runningVariance", runningVariance) })
            Checks.Length(op, name, t.Length, channels);
        lock (_sync)
        {
            var affine = ScratchBuffer(Scratch.Affine, 2L * channels * sizeof(float));
            _runtime.Launch("batch_norm_inference_affine", channels, Arg(gamma, op), Arg(beta, op), Arg(runningMean, op), Arg(runningVariance, op), affine, epsilon);
            _runtime.Launch("batch_norm_apply", x.Length, Arg(x, op), Arg(y, op), affine, channels, inner);
        }
    }

    public void BatchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor savedMean, Tensor savedInvStd, Tensor dx, Tensor dgamma, Tensor dbeta, int channels)
    {
        const string op = "BatchNormBackward";
        if (x.Length == 0) return;
        int inner = ValidateBatchNorm(op, x, dy, channels, out int samples);
        Checks.SameLength(op, x.Length, dx.Length, "x", "dx");
        foreach (var (name, t) in new[] { ("gamma", gamma), ("savedMean", savedMean), ("savedInvStd", savedInvStd), ("dgamma", dgamma), ("dbeta", dbeta) })
            Checks.Length(op, name, t.Length, channels);
        long count = (long)samples * inner;
        lock (_sync)
        {
            int planes = samples * channels;
            var partials = AccumulatorScratch(Scratch.Partials, 2L * planes);
            var terms = ScratchBuffer(Scratch.Affine, 3L * channels * sizeof(float));
            _runtime.Launch("batch_norm_backward_partials", planes, Arg(x, op), Arg(dy, op), Arg(savedMean, op), Arg(savedInvStd, op), channels, inner, partials);
            _runtime.Launch("batch_norm_backward_finish", channels, partials, Arg(gamma, op), Arg(savedInvStd, op), Arg(dgamma, op), Arg(dbeta, op),
                terms, samples, channels, count);
            _runtime.Launch("batch_norm_backward_apply", x.Length, Arg(x, op), Arg(dy, op), Arg(savedMean, op), Arg(savedInvStd, op), Arg(dx, op), terms, channels, inner);
        }
    }

    private static int ValidateBatchNorm(string op, Tensor x, Tensor y, int channels, out int samples)
    {
        Checks.Positive(op, "channels", channels);
        Checks.SameLength(op, x.Length, y.Length, "x", "y");
        int inner = InnerSize(op, x, channels);
        Checks.Positive(op, "inner size", inner);
        samples = x.Length / (channels * inner);
        return inner;
    }

    // ---- optimizers: the CPU's scalar formulas, one work-item per parameter ----

    public void SgdStep(Tensor weights, Tensor gradients, Tensor velocity, float learningRate, float momentum, float weightDecay, bool nesterov, bool firstStep)
    {
        const string op = "SgdStep";
        Checks.SameLength(op, weights.Length, gradients.Length, "weights", "gradients");
        if (momentum != 0f) Checks.SameLength(op, weights.Length, velocity.Length, "weights", "velocity");
        if (nesterov && momentum <= 0f) throw new ArgumentException($"{op}: Nesterov momentum requires momentum > 0, got {momentum}.");
        lock (_sync)
        {
            // Without momentum the kernel never touches velocity, which may then be empty; weights stand in for it.
            var velocityArg = momentum != 0f ? Arg(velocity, op) : Arg(weights, op);
            _runtime.Launch("sgd_step", weights.Length, Arg(weights, op), Arg(gradients, op), velocityArg, learningRate, momentum, weightDecay, nesterov, firstStep);
        }
    }

    public void AdamStep(Tensor weights, Tensor gradients, Tensor firstMoment, Tensor secondMoment, float learningRate, float beta1, float beta2, float epsilon, float weightDecay, bool decoupled, long step)
    {
        const string op = "AdamStep";
        Checks.SameLength(op, weights.Length, gradients.Length, "weights", "gradients");
        Checks.SameLength(op, weights.Length, firstMoment.Length, "weights", "firstMoment");
        Checks.SameLength(op, weights.Length, secondMoment.Length, "weights", "secondMoment");
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), $"{op}: step counts from 1, got {step}.");
        // The bias corrections in double, handed to the kernel as floats, exactly as the CPU backend (and PyTorch) does.
        // Scalars from the Python doubles the floats stand for (0.999, not 0.999f), as torch and the CPU backend do.
        double b1 = PythonValue(beta1), b2 = PythonValue(beta2), rate = PythonValue(learningRate);
        float stepSize = (float)(rate / (1.0 - Math.Pow(b1, step)));
        float correction2 = (float)Math.Sqrt(1.0 - Math.Pow(b2, step));
        float decay = decoupled ? (float)(1.0 - rate * PythonValue(weightDecay)) : 1f;
        float oneMinusBeta1 = (float)(1.0 - b1), oneMinusBeta2 = (float)(1.0 - b2);
        lock (_sync)
            _runtime.Launch("adam_step", weights.Length, Arg(weights, op), Arg(gradients, op), Arg(firstMoment, op), Arg(secondMoment, op),
                beta1, beta2, epsilon, weightDecay, decoupled, stepSize, correction2, decay, oneMinusBeta1, oneMinusBeta2);
    }

    private static double PythonValue(float value) => double.Parse(value.ToString("R", System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture);
}

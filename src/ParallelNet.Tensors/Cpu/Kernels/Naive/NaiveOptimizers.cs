namespace ParallelNet.Tensors.Cpu.Kernels.Naive;

/// <summary>
/// Reference twin of <see cref="Optimizers"/>: PyTorch 1.13's single-tensor update written as the
/// sequence of in-place tensor operations torch performs, one element at a time, in float.
/// </summary>
public static class NaiveOptimizers
{
    public static void SgdStep(float[] param, float[] grad, float[] momentumBuffer, float lr, float momentum, float weightDecay, bool nesterov, bool firstStep)
    {
        for (int i = 0; i < param.Length; i++)
        {
            float dp = grad[i];
            if (weightDecay != 0) dp = dp + weightDecay * param[i];            // d_p = d_p.add(param, alpha=weight_decay)
            if (momentum != 0)
            {
                if (firstStep) momentumBuffer[i] = dp;                              // buf = torch.clone(d_p).detach()
                else momentumBuffer[i] = momentumBuffer[i] * momentum + dp;          // buf.mul_(momentum).add_(d_p, alpha=1 - dampening)
                dp = nesterov ? dp + momentum * momentumBuffer[i] : momentumBuffer[i];
            }
            param[i] = param[i] + -lr * dp;                                         // param.add_(d_p, alpha=-lr)
        }
    }

    public static void AdamStep(float[] param, float[] grad, float[] expAvg, float[] expAvgSq, float lr, float beta1, float beta2, float eps,
        float weightDecay, bool decoupled, long step)
    {
        // The Python doubles behind the float arguments (0.999f stands for 0.999).
        double b1 = double.Parse(beta1.ToString("R")), b2 = double.Parse(beta2.ToString("R")), rate = double.Parse(lr.ToString("R"));
        double wd = double.Parse(weightDecay.ToString("R"));
        double biasCorrection1 = 1 - Math.Pow(b1, step);
        double biasCorrection2 = 1 - Math.Pow(b2, step);
        double stepSize = rate / biasCorrection1;
        double biasCorrection2Sqrt = Math.Sqrt(biasCorrection2);
        for (int i = 0; i < param.Length; i++)
        {
            float g = grad[i];
            if (decoupled) param[i] *= (float)(1 - rate * wd);         // param.mul_(1 - lr * weight_decay)
            else if (weightDecay != 0) g = g + weightDecay * param[i];             // grad = grad.add(param, alpha=weight_decay)
            expAvg[i] = expAvg[i] * beta1 + (float)(1 - b1) * g;                        // exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
            expAvgSq[i] = expAvgSq[i] * beta2 + (float)(1 - b2) * g * g;                // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            float denom = MathF.Sqrt(expAvgSq[i]) / (float)biasCorrection2Sqrt + eps; // (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
            param[i] = param[i] + -(float)stepSize * (expAvg[i] / denom);           // param.addcdiv_(exp_avg, denom, value=-step_size)
        }
    }
}

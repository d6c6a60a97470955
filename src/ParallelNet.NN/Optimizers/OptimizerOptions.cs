namespace ParallelNet.NN.Optimizers;

/// <summary>
/// Hyper-parameters of an <see cref="Optimizer"/>, with PyTorch's meanings and defaults.
/// <see cref="WeightDecay"/> is torch.optim's (applied to every trainable parameter, biases and
/// batch-norm scales included); the loss's L2 term on weights only is a separate option of the model.
/// </summary>
/// <param name="ClipGlobalNorm">Maximum L2 norm of the whole averaged gradient (torch.nn.utils.clip_grad_norm_); 0 turns it off.</param>
/// <param name="ClipValue">Each averaged gradient element is clamped to [-ClipValue, ClipValue] (clip_grad_value_); 0 turns it off.</param>
/// <param name="Schedule">Learning-rate multiplier per optimizer step; null means constant.</param>
public sealed record OptimizerOptions(
    OptimizerKind Kind,
    float LearningRate,
    float Momentum = 0f,
    bool Nesterov = false,
    float WeightDecay = 0f,
    float Beta1 = 0.9f,
    float Beta2 = 0.999f,
    float Epsilon = 1e-8f,
    float ClipGlobalNorm = 0f,
    float ClipValue = 0f,
    LearningRateSchedule? Schedule = null)
{
    /// <summary>Throws an <see cref="ArgumentException"/> whose ParamName is the bad field and whose message says what is allowed.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Kind))
            throw new ArgumentException($"OptimizerOptions.Kind {(int)Kind} is not an optimizer; use Sgd, Adam or AdamW.", nameof(Kind));
        if (!(LearningRate >= 0f) || !float.IsFinite(LearningRate))
            throw new ArgumentException($"OptimizerOptions.LearningRate must be a finite non-negative number (e.g. 0.01), got {LearningRate}.", nameof(LearningRate));
        if (!(Momentum >= 0f && Momentum < 1f))
            throw new ArgumentException($"OptimizerOptions.Momentum must be in [0, 1), got {Momentum}.", nameof(Momentum));
        if (Kind != OptimizerKind.Sgd && Momentum != 0f)
            throw new ArgumentException($"OptimizerOptions.Momentum applies to Sgd only; {Kind} uses Beta1 instead (got Momentum = {Momentum}).", nameof(Momentum));
        if (Nesterov && Kind != OptimizerKind.Sgd)
            throw new ArgumentException($"OptimizerOptions.Nesterov applies to Sgd only, not {Kind}.", nameof(Nesterov));
        if (Nesterov && Momentum == 0f)
            throw new ArgumentException("OptimizerOptions.Nesterov needs a positive Momentum (e.g. 0.9); Nesterov momentum without momentum is plain SGD.", nameof(Nesterov));
        if (!(WeightDecay >= 0f) || !float.IsFinite(WeightDecay))
            throw new ArgumentException($"OptimizerOptions.WeightDecay must be a finite non-negative number, got {WeightDecay}.", nameof(WeightDecay));
        if (!(Beta1 >= 0f && Beta1 < 1f))
            throw new ArgumentException($"OptimizerOptions.Beta1 must be in [0, 1), got {Beta1}.", nameof(Beta1));
        if (!(Beta2 >= 0f && Beta2 < 1f))
            throw new ArgumentException($"OptimizerOptions.Beta2 must be in [0, 1), got {Beta2}.", nameof(Beta2));
        if (!(Epsilon > 0f) || !float.IsFinite(Epsilon))
            throw new ArgumentException($"OptimizerOptions.Epsilon must be a small positive number (e.g. 1e-8), got {Epsilon}.", nameof(Epsilon));
        if (!(ClipGlobalNorm >= 0f) || !float.IsFinite(ClipGlobalNorm))
            throw new ArgumentException($"OptimizerOptions.ClipGlobalNorm must be a finite non-negative norm (0 turns clipping off), got {ClipGlobalNorm}.", nameof(ClipGlobalNorm));
        if (!(ClipValue >= 0f) || !float.IsFinite(ClipValue))
            throw new ArgumentException($"OptimizerOptions.ClipValue must be a finite non-negative bound (0 turns clipping off), got {ClipValue}.", nameof(ClipValue));
        Schedule?.Validate();
    }
}

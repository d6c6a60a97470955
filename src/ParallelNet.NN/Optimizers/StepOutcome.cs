namespace ParallelNet.NN.Optimizers;

/// <summary>
/// What <see cref="Optimizer.Step"/> did. When <see cref="Applied"/> is false the weights and the
/// optimizer state were left untouched and <see cref="Rejection"/> says why
/// (e.g. "gradient of '2.weight' is NaN at element 5"); the caller decides whether to fail or skip.
/// </summary>
/// <param name="GradientNorm">
/// L2 norm of the averaged gradient over the trainable parameters, after value clipping and before
/// global-norm clipping (what torch.nn.utils.clip_grad_norm_ returns); NaN for a rejected step.
/// </param>
public readonly record struct StepOutcome(bool Applied, double GradientNorm, string? Rejection);

namespace ParallelNet.NN.Optimizers;

/// <summary>
/// A multiplier of the base learning rate as a pure function of the optimizer step, so a resumed job
/// needs only <see cref="Optimizer.StepsTaken"/> to continue the schedule.
///
/// Schedules advance per optimizer step, not per epoch: <paramref name="step"/> in
/// <see cref="Factor"/> is the number of steps already applied (0 for the first update), which is the
/// lr PyTorch uses when <c>scheduler.step()</c> is called once after every <c>optimizer.step()</c>.
/// To reproduce a per-epoch PyTorch schedule, express its sizes in steps (epochs × steps per epoch).
/// </summary>
public abstract record LearningRateSchedule
{
    /// <summary>Factor applied to the base learning rate for the update with index <paramref name="step"/> (0-based).</summary>
    public abstract float Factor(long step, long totalSteps);

    /// <summary>Throws an <see cref="ArgumentException"/> naming the bad field.</summary>
    public abstract void Validate();

    private protected static void RequireStepIndex(long step)
    {
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), $"A schedule step index must be non-negative, got {step}.");
    }

    /// <summary>The base learning rate throughout.</summary>
    public sealed record Constant : LearningRateSchedule
    {
        public override float Factor(long step, long totalSteps)
        {
            RequireStepIndex(step);
            return 1f;
        }

        public override void Validate() { }
    }

    /// <summary>
    /// torch.optim.lr_scheduler.StepLR counted in optimizer steps: the factor is
    /// <c>Gamma^floor(step / StepSize)</c>.
    /// </summary>
    public sealed record StepDecay(long StepSize, float Gamma) : LearningRateSchedule
    {
        public override float Factor(long step, long totalSteps)
        {
            RequireStepIndex(step);
            return (float)Math.Pow(Gamma, step / StepSize);
        }

        public override void Validate()
        {
            if (StepSize <= 0) throw new ArgumentException($"StepDecay.StepSize must be a positive number of optimizer steps, got {StepSize}.", nameof(StepSize));
            if (!(Gamma > 0f) || !float.IsFinite(Gamma)) throw new ArgumentException($"StepDecay.Gamma must be a positive finite factor (e.g. 0.1), got {Gamma}.", nameof(Gamma));
        }
    }

    /// <summary>
    /// Cosine annealing from the base rate down to <c>MinFactor × base</c> over the job's total steps,
    /// after an optional linear warm-up. Without warm-up this is torch.optim.lr_scheduler.CosineAnnealingLR
    /// with <c>T_max = totalSteps</c> and <c>eta_min = MinFactor × lr</c> (its closed form).
    ///
    /// Warm-up: update k &lt; WarmupSteps uses (k + 1) / WarmupSteps, so the first update already moves the
    /// weights; the cosine then runs over the remaining totalSteps − WarmupSteps updates.
    /// From totalSteps on, the factor stays at MinFactor (PyTorch would start to rise again, which a
    /// job that ends at totalSteps never sees).
    /// </summary>
    public sealed record Cosine(float MinFactor = 0f, long WarmupSteps = 0) : LearningRateSchedule
    {
        public override float Factor(long step, long totalSteps)
        {
            RequireStepIndex(step);
            if (totalSteps <= WarmupSteps)
                throw new ArgumentOutOfRangeException(nameof(totalSteps), $"A cosine schedule needs the job's total step count to exceed its {WarmupSteps} warm-up steps, got totalSteps = {totalSteps}; pass the planned number of optimizer steps.");
            if (step < WarmupSteps) return (float)((step + 1) / (double)WarmupSteps);
            if (step >= totalSteps) return MinFactor;
            double progress = (step - WarmupSteps) / (double)(totalSteps - WarmupSteps);
            return (float)(MinFactor + (1.0 - MinFactor) * (1.0 + Math.Cos(Math.PI * progress)) / 2.0);
        }

        public override void Validate()
        {
            if (!(MinFactor >= 0f && MinFactor <= 1f)) throw new ArgumentException($"Cosine.MinFactor must be in [0, 1] (the final lr as a fraction of the base lr), got {MinFactor}.", nameof(MinFactor));
            if (WarmupSteps < 0) throw new ArgumentException($"Cosine.WarmupSteps must be non-negative, got {WarmupSteps}.", nameof(WarmupSteps));
        }
    }
}

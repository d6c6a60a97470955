using ParallelNet.NN.Optimizers;

namespace ParallelNet.NN.Tests.Optimizers;

/// <summary>Schedule formulas at hand-computed points; the PyTorch trajectories cover StepLR and CosineAnnealingLR end to end.</summary>
public sealed class LearningRateScheduleTests
{
    private const float Tolerance = 1e-7f;

    [Fact]
    public void Constant_is_one_everywhere()
    {
        var schedule = new LearningRateSchedule.Constant();
        Assert.Equal(1f, schedule.Factor(0, 0));
        Assert.Equal(1f, schedule.Factor(1_000_000, 10));
    }

    [Fact]
    public void Step_decay_multiplies_by_gamma_every_step_size_steps()
    {
        var schedule = new LearningRateSchedule.StepDecay(3, 0.1f);
        float[] expected = [1f, 1f, 1f, 0.1f, 0.1f, 0.1f, 0.01f];
        for (int step = 0; step < expected.Length; step++) Assert.Equal(expected[step], schedule.Factor(step, 0), Tolerance);
    }

    [Fact]
    public void Cosine_falls_from_one_to_min_factor_and_stays_there()
    {
        var schedule = new LearningRateSchedule.Cosine(0.2f);
        Assert.Equal(1f, schedule.Factor(0, 8), Tolerance);
        Assert.Equal(0.2f + 0.8f * (1 + MathF.Cos(MathF.PI / 4)) / 2, schedule.Factor(2, 8), 1e-6f);
        Assert.Equal(0.6f, schedule.Factor(4, 8), Tolerance);
        Assert.Equal(0.2f, schedule.Factor(8, 8), Tolerance);
        Assert.Equal(0.2f, schedule.Factor(13, 8), Tolerance);
    }

    [Fact]
    public void Cosine_warmup_rises_linearly_then_anneals_over_the_remaining_steps()
    {
        var schedule = new LearningRateSchedule.Cosine(0f, WarmupSteps: 4);
        float[] warmup = [0.25f, 0.5f, 0.75f, 1f];
        for (int step = 0; step < 4; step++) Assert.Equal(warmup[step], schedule.Factor(step, 12), Tolerance);
        Assert.Equal(1f, schedule.Factor(4, 12), Tolerance);
        Assert.Equal(0.5f, schedule.Factor(8, 12), Tolerance);
        Assert.Equal(0f, schedule.Factor(12, 12), Tolerance);
    }

    [Fact]
    public void Cosine_without_a_total_step_count_explains_what_to_pass()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new LearningRateSchedule.Cosine(0f, WarmupSteps: 5).Factor(0, 5));
        Assert.Contains("totalSteps", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new LearningRateSchedule.Cosine().Factor(0, 0));
    }

    [Fact]
    public void Negative_step_index_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new LearningRateSchedule.StepDecay(2, 0.5f).Factor(-1, 10));
    }
}

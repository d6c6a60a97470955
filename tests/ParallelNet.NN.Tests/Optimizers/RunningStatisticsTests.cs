using ParallelNet.NN.Optimizers;
using ParallelNet.Tensors;
using static ParallelNet.NN.Tests.Optimizers.OptimizerTestKit;

namespace ParallelNet.NN.Tests.Optimizers;

/// <summary>
/// Batch-norm running statistics ride in the gradient buffer as sample-weighted sums; the optimizer
/// turns them into an EMA and counts batches, untouched by learning rate, weight decay or clipping.
/// </summary>
public sealed class RunningStatisticsTests
{
    private const double Tolerance = 1e-6;

    private static ParameterLayout Layout(float statisticMomentum) => new([
        new ParameterInfo("0.weight", new Shape(2, 3), 0, ParameterRole.Weight),
        new ParameterInfo("0.bias", new Shape(2), 6, ParameterRole.Bias),
        new ParameterInfo("1.weight", new Shape(2), 8, ParameterRole.Gamma),
        new ParameterInfo("1.bias", new Shape(2), 10, ParameterRole.Beta),
        new ParameterInfo("1.running_mean", new Shape(2), 12, ParameterRole.RunningMean, statisticMomentum),
        new ParameterInfo("1.running_var", new Shape(2), 14, ParameterRole.RunningVariance, statisticMomentum),
        new ParameterInfo("1.num_batches_tracked", new Shape(1), 16, ParameterRole.BatchCount),
    ]);

    [Fact]
    public void Running_statistics_follow_the_ema_of_batch_averages_and_batches_are_counted()
    {
        const float momentum = 0.1f;
        const int batchSize = 6;
        var layout = Layout(momentum);
        var compute = NewCompute();
        // Aggressive weight decay and clipping: they would visibly change the statistics if applied to them.
        var options = new OptimizerOptions(OptimizerKind.Sgd, 0.5f, Momentum: 0.9f, WeightDecay: 0.5f, ClipGlobalNorm: 1e-3f, ClipValue: 1e-4f);
        var optimizer = new Optimizer(options, layout, compute);

        var initial = new float[layout.TotalSize];
        initial[layout["1.running_var"].Offset] = 1f;
        initial[layout["1.running_var"].Offset + 1] = 1f;
        var parameters = Upload(compute, initial);
        double[] runningMean = [0, 0];
        double[] runningVariance = [1, 1];
        var random = new Random(3);

        for (int step = 1; step <= 3; step++)
        {
            var gradients = RandomValues(random, layout.TotalSize, 2);
            float[] batchMean = [step * 0.5f, -2f + step];
            float[] batchVariance = [1.5f * step, 0.25f];
            for (int c = 0; c < 2; c++)
            {
                // What the shards accumulate: statistic × shard samples, summed over the tree.
                gradients[layout["1.running_mean"].Offset + c] = batchMean[c] * batchSize;
                gradients[layout["1.running_var"].Offset + c] = batchVariance[c] * batchSize;
                runningMean[c] = (1 - momentum) * runningMean[c] + momentum * batchMean[c];
                runningVariance[c] = (1 - momentum) * runningVariance[c] + momentum * batchVariance[c];
            }

            Assert.True(optimizer.Step(parameters, Upload(compute, gradients), batchSize, 3).Applied);

            var after = Download(compute, parameters);
            for (int c = 0; c < 2; c++)
            {
                Assert.InRange(after[layout["1.running_mean"].Offset + c], runningMean[c] - Tolerance, runningMean[c] + Tolerance);
                Assert.InRange(after[layout["1.running_var"].Offset + c], runningVariance[c] - Tolerance, runningVariance[c] + Tolerance);
            }
            Assert.Equal(step, after[layout["1.num_batches_tracked"].Offset]);
        }
    }

    [Fact]
    public void Gradient_norm_and_optimizer_state_cover_trainable_slots_only()
    {
        var layout = Layout(0.1f);
        var compute = NewCompute();
        var optimizer = new Optimizer(new OptimizerOptions(OptimizerKind.Adam, 0.01f), layout, compute);
        var gradients = RandomValues(new Random(5), layout.TotalSize, 3);
        gradients[layout["1.running_var"].Offset] = 1000f;
        double expectedNorm = Math.Sqrt(layout.Parameters.Where(p => p.IsTrainable)
            .SelectMany(p => gradients.Skip(p.Offset).Take(p.Length)).Sum(g => (double)(g / 2f) * (g / 2f)));

        var outcome = optimizer.Step(Upload(compute, new float[layout.TotalSize]), Upload(compute, gradients), 2, 1);

        Assert.Equal(expectedNorm, outcome.GradientNorm, 1e-9);
        Assert.Equal(
            ["0.weight.exp_avg", "0.weight.exp_avg_sq", "0.bias.exp_avg", "0.bias.exp_avg_sq", "1.weight.exp_avg", "1.weight.exp_avg_sq", "1.bias.exp_avg", "1.bias.exp_avg_sq"],
            optimizer.State.Select(s => s.Name));
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(1f)]
    public void Momentum_zero_keeps_and_momentum_one_replaces_the_running_statistic(float momentum)
    {
        var layout = Layout(momentum);
        var compute = NewCompute();
        var optimizer = new Optimizer(new OptimizerOptions(OptimizerKind.Sgd, 0.1f), layout, compute);
        var initial = new float[layout.TotalSize];
        initial[layout["1.running_mean"].Offset] = 0.75f;
        var gradients = new float[layout.TotalSize];
        gradients[layout["1.running_mean"].Offset] = 3f * 4;
        var parameters = Upload(compute, initial);

        Assert.True(optimizer.Step(parameters, Upload(compute, gradients), 4, 1).Applied);

        Assert.Equal(momentum == 0f ? 0.75f : 3f, Download(compute, parameters)[layout["1.running_mean"].Offset]);
    }

    [Fact]
    public void Statistic_momentum_outside_unit_interval_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => new Optimizer(new OptimizerOptions(OptimizerKind.Sgd, 0.1f), Layout(1.5f), NewCompute()));
        Assert.Contains("1.running_mean", error.Message);
    }
}

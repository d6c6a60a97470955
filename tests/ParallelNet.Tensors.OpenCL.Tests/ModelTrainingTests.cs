using ParallelNet.NN;
using ParallelNet.NN.Optimizers;

namespace ParallelNet.Tensors.OpenCL.Tests;

/// <summary>
/// Whole presets trained for a few steps on each backend from the same seed and data: the losses,
/// correct counts and final weights agree within <see cref="WeightTolerance"/>, the tolerance a job
/// that mixes CPU and OpenCL workers inherits after a few steps.
/// </summary>
[Collection(OpenClCollection.Name)]
public class ModelTrainingTests(OpenClFixture fixture)
{
    /// <summary>Per weight after 3 steps: |opencl - cpu| &lt;= tol * (1 + |cpu|).</summary>
    private const double WeightTolerance = 1e-4;

    [OpenClTheory]
    [InlineData("mlp", 16, OptimizerKind.Sgd)]
    [InlineData("cnn", 8, OptimizerKind.Adam)]
    [InlineData("resnet-small", 4, OptimizerKind.Sgd)]
    [InlineData("lstm", 4, OptimizerKind.Adam)]
    public void Preset_TrainsAlikeOnBothBackends(string preset, int batch, OptimizerKind optimizer)
    {
        var spec = ModelSpec.Preset(preset);
        var options = new OptimizerOptions(optimizer, optimizer == OptimizerKind.Sgd ? 0.05f : 1e-3f, Momentum: optimizer == OptimizerKind.Sgd ? 0.9f : 0f);
        var (cpuLosses, cpuWeights) = Train(fixture.Cpu, spec, options, batch);
        var (gpuLosses, gpuWeights) = Train(fixture.Device, spec, options, batch);
        for (int step = 0; step < cpuLosses.Count; step++)
        {
            Assert.Equal(cpuLosses[step].Correct, gpuLosses[step].Correct);
            Assert.True(Math.Abs(cpuLosses[step].LossSum - gpuLosses[step].LossSum) <= WeightTolerance * (1 + Math.Abs(cpuLosses[step].LossSum)),
                $"{preset} step {step}: loss {gpuLosses[step].LossSum:R} on OpenCL, {cpuLosses[step].LossSum:R} on the CPU.");
        }
        BackendComparison.AssertClose(cpuWeights, gpuWeights, WeightTolerance, $"{preset} weights after {cpuLosses.Count} steps");
    }

    private static (List<ShardResult> Losses, float[] Weights) Train(ICompute compute, ModelSpec spec, OptimizerOptions options, int batch)
    {
        var model = Model.Create(spec, compute, batch);
        model.Initialize(seed: 5);
        var optimizer = new Optimizer(options, model.Layout, compute);
        int inputSize = spec.Input.Size;
        var losses = new List<ShardResult>();
        for (int step = 0; step < 3; step++)
        {
            var inputs = BackendComparison.Uniform(batch * inputSize, 100 + step, 0f, 1f);
            var labels = BackendComparison.Labels(batch, 10, 200 + step);
            compute.Fill(model.Gradients, 0f);
            losses.Add(model.TrainShard(inputs, labels, batch, new StepContext(9, 0, step, 0)));
            Assert.True(optimizer.Step(model.Parameters, model.Gradients, batch, 3).Applied);
        }
        var weights = new float[model.Parameters.Length];
        compute.Download(model.Parameters, weights);
        return (losses, weights);
    }
}

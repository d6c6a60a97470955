using ParallelNet.Data;
using ParallelNet.NN;
using ParallelNet.NN.Optimizers;
using ParallelNet.Training;
using ParallelNet.Training.Actors;

namespace ParallelNet.Tensors.OpenCL.Tests;

/// <summary>
/// Parameters, gradients, activations and optimizer state stay on the device across steps: the only bulk
/// transfers are the input batch (up), and in a job's worker the weights received (up) and the gradient
/// block sent (down). Losses, correct counts and finiteness checks bring back a few hundred numbers at most.
/// </summary>
[Collection(OpenClCollection.Name)]
public class HostTransferTests(OpenClFixture fixture)
{
    /// <summary>Per step: loss partials (at most 256 accumulators), correct counts, finiteness flags.</summary>
    private const long ScalarBytesPerStep = 16 * 1024;

    [OpenClFact]
    public void TrainingSteps_UploadOnlyTheBatch_AndDownloadOnlyAFewNumbers()
    {
        var gpu = fixture.Device;
        const int batch = 16, steps = 3;
        var spec = ModelSpec.Preset("mlp");
        var model = Model.Create(spec, gpu, batch);
        model.Initialize(seed: 3);
        var optimizer = new Optimizer(new OptimizerOptions(OptimizerKind.Adam, 1e-3f), model.Layout, gpu);
        void Step(int step)
        {
            gpu.Fill(model.Gradients, 0f);
            model.TrainShard(BackendComparison.Uniform(batch * 784, step), BackendComparison.Labels(batch, 10, step), batch, new StepContext(1, 0, step, 0));
            Assert.True(optimizer.Step(model.Parameters, model.Gradients, batch, step).Applied);
        }
        Step(1); // the first step allocates the optimizer state (zero-filled on the device, not uploaded)
        var before = gpu.Transfers;
        for (int step = 2; step < 2 + steps; step++) Step(step);
        var moved = gpu.Transfers.Since(before);

        long batchBytes = batch * (784 + 1) * sizeof(float);
        Assert.Equal(steps * batchBytes, moved.UploadedBytes);
        Assert.Equal(2 * steps, moved.Uploads);
        Assert.True(moved.DownloadedBytes <= steps * ScalarBytesPerStep,
            $"{moved.DownloadedBytes} bytes came back in {steps} steps; the model has {model.Parameters.Length * sizeof(float)} bytes of weights, which must stay on the device");
    }

    [OpenClFact]
    public void JobWorker_MovesTheBatch_TheWeightsReceived_AndTheGradientBlockSent_AndNothingElseInBulk()
    {
        var gpu = fixture.Device;
        var data = DatasetCatalog.Load("spirals", null);
        var options = MixedBackendJobTests.SpiralsJob(data) with { MaxSteps = 4 };
        long weightBytes = Model.Create(options.Model, new Tensors.Cpu.CpuCompute(1), 1).Layout.TotalSize * sizeof(float);
        var before = gpu.Transfers;
        var summary = new ActorTrainer(options, data, new ActorTrainerSettings { Workers = 1, WorkerCompute = _ => gpu }).Run();
        var moved = gpu.Transfers.Since(before);
        Assert.Equal(4, summary.Steps);

        long batchBytes = 4 * options.BatchSize * (data.Train.SampleShape.Size + data.Train.TargetSize) * (long)sizeof(float);
        long weightUploads = (moved.UploadedBytes - batchBytes) / weightBytes;
        Assert.Equal(0, (moved.UploadedBytes - batchBytes) % weightBytes);
        Assert.InRange(weightUploads, 4, 5); // the weights of steps 1-4, and maybe those published after the last one
        long gradientBytes = 4 * weightBytes;
        Assert.InRange(moved.DownloadedBytes - gradientBytes, 0, 4 * ScalarBytesPerStep);
    }
}

using static ParallelNet.Tensors.OpenCL.Tests.BackendComparison;

namespace ParallelNet.Tensors.OpenCL.Tests;

[Collection(OpenClCollection.Name)]
public class NormalizationAndOptimizerTests(OpenClFixture fixture)
{
    [OpenClTheory]
    [InlineData(2, 1, 1)]
    [InlineData(5, 3, 1)]
    [InlineData(3, 4, 9)]
    [InlineData(16, 8, 49)]
    public void BatchNorm_TrainingInferenceAndBackward_EqualTheCpu(int samples, int channels, int inner)
    {
        int n = samples * channels * inner;
        int[] dims = [samples, channels, inner], c1 = [channels];
        var x = Uniform(n, n, -2f, 3f);
        var gamma = Uniform(channels, 1, 0.5f, 1.5f);
        var beta = Uniform(channels, 2);
        var (cpu, _) = Run(fixture, [(x, dims), (gamma, c1), (beta, c1), (new float[n], dims), (new float[channels], c1), (new float[channels], c1), (new float[channels], c1)],
            (c, t) => { c.BatchNormForwardTraining(t[0], t[1], t[2], t[3], t[4], t[5], t[6], channels, 1e-5f); return 0; }, Tolerances.Reduction, "BatchNormForwardTraining");
        var (mean, invStd) = (cpu[4], cpu[5]);
        Run(fixture, [(x, dims), (gamma, c1), (beta, c1), (Uniform(channels, 3), c1), (Uniform(channels, 4, 0.5f, 2f), c1), (new float[n], dims)],
            (c, t) => { c.BatchNormForwardInference(t[0], t[1], t[2], t[3], t[4], t[5], channels, 1e-5f); return 0; }, Tolerances.Bitwise, "BatchNormForwardInference");
        Run(fixture, [(x, dims), (Uniform(n, 5), dims), (gamma, c1), (mean, c1), (invStd, c1), (new float[n], dims), (Uniform(channels, 6), c1), (Uniform(channels, 7), c1)],
            (c, t) => { c.BatchNormBackward(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], channels); return 0; }, Tolerances.Reduction, "BatchNormBackward");
    }

    [OpenClTheory]
    [InlineData(1, 0f, 0f, false, false)]
    [InlineData(37, 0.9f, 0f, false, true)]
    [InlineData(37, 0.9f, 1e-4f, false, false)]
    [InlineData(1000, 0.9f, 5e-4f, true, false)]
    public void Sgd_EqualsTheCpuBitwise(int n, float momentum, float weightDecay, bool nesterov, bool firstStep)
    {
        Run(fixture, [(Uniform(n, 1), [n]), (Uniform(n, 2), [n]), (Uniform(n, 3), [n])],
            (c, t) => { c.SgdStep(t[0], t[1], t[2], 0.05f, momentum, weightDecay, nesterov, firstStep); return 0; }, Tolerances.Bitwise, "SgdStep");
    }

    [OpenClTheory]
    [InlineData(1, 0f, false, 1L)]
    [InlineData(37, 0.01f, false, 3L)]
    [InlineData(1000, 0.01f, true, 100L)]
    public void Adam_EqualsTheCpuBitwise(int n, float weightDecay, bool decoupled, long step)
    {
        Run(fixture, [(Uniform(n, 1), [n]), (Uniform(n, 2), [n]), (Uniform(n, 3, -0.1f, 0.1f), [n]), (Uniform(n, 4, 0f, 0.01f), [n])],
            (c, t) => { c.AdamStep(t[0], t[1], t[2], t[3], 1e-3f, 0.9f, 0.999f, 1e-8f, weightDecay, decoupled, step); return 0; }, Tolerances.Bitwise, "AdamStep");
    }
}

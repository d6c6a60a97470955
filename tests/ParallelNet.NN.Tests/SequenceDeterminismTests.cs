using ParallelNet.Tensors.Cpu;

namespace ParallelNet.NN.Tests;

/// <summary>
/// The determinism the data-parallel design relies on, for the sequence models: a shard's gradient is bitwise the
/// same for any thread count and whatever the replica computed before (another shard size, other samples), so it
/// does not matter which worker computes it.
/// </summary>
public sealed class SequenceDeterminismTests
{
    public static TheoryData<string> Specs() => new()
    {
        ModelSpec.Preset("lstm").ToYaml(),
        "input: [9, 5]\nloss: mse\nlayers: [{type: rnn, hidden: 33, return_sequences: true}, {type: linear, out: 3}]",
        "input: [7]\nloss: cross_entropy\nlayers: [{type: embedding, vocabulary: 50, dim: 12}, {type: lstm, hidden: 20, return_sequences: true, truncate: 3}, {type: flatten}, {type: linear, out: 4}]",
    };

    [Theory]
    [MemberData(nameof(Specs))]
    public void ShardGradientsAreBitwiseTheSameOnAnyThreadCountAndAfterAnyHistory(string yaml)
    {
        var spec = ModelSpec.Parse(yaml);
        const int shard = 70, other = 13;
        var (inputs, targets) = Batch(spec, shard + other);

        float[] Gradients(int threads, bool computeAnotherShardFirst)
        {
            var compute = new CpuCompute(threads);
            var model = Model.Create(spec, compute, shard);
            model.Initialize(seed: 21);
            if (computeAnotherShardFirst)
            {
                model.TrainShard(inputs.AsSpan(shard * spec.Input.Size), targets.AsSpan(shard * model.TargetSize), other, new StepContext(1, 0, 0, shard));
                compute.Fill(model.Gradients, 0f);
            }
            model.TrainShard(inputs.AsSpan(0, shard * spec.Input.Size), targets.AsSpan(0, shard * model.TargetSize), shard, new StepContext(1, 0, 0, 0));
            return TestSupport.Download(compute, model.Gradients);
        }

        var reference = Gradients(1, false);
        Assert.Contains(reference, g => g != 0f);
        Assert.Equal(reference.Select(BitConverter.SingleToInt32Bits), Gradients(2, false).Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(reference.Select(BitConverter.SingleToInt32Bits), Gradients(2, true).Select(BitConverter.SingleToInt32Bits));
    }

    private static (float[] Inputs, float[] Targets) Batch(ModelSpec spec, int count)
    {
        var model = Model.Create(spec, new CpuCompute(1), 1);
        var inputs = TestSupport.RandomFloats(count * spec.Input.Size, 5);
        if (spec.Layers[0].Type == "embedding") inputs = inputs.Select(v => MathF.Floor((v + 1f) * 24.99f)).ToArray();
        var targets = TestSupport.RandomFloats(count * model.TargetSize, 6);
        if (spec.Loss == Losses.LossKind.CrossEntropy) targets = targets.Select(v => MathF.Floor((v + 1f) / 2f * 3.99f)).ToArray();
        return (inputs, targets);
    }
}

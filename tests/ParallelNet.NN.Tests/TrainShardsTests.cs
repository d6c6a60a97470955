using System.Numerics;
using ParallelNet.Tensors;
using ParallelNet.Tensors.Cpu;

namespace ParallelNet.NN.Tests;

/// <summary>Model.TrainShards (virtual shards batched through row-independent layers) against TrainShard shard by shard.</summary>
public sealed class TrainShardsTests
{
    private const string SmallMlp = "input: [1, 6, 6]\nloss: cross_entropy\nlayers: [{type: flatten}, {type: linear, out: 40}, {type: relu}, {type: dropout, p: 0.3}, {type: linear, out: 70}, {type: tanh}, {type: linear, out: 3}]";
    private const string Regression = "input: [9]\nloss: mse\nlayers: [{type: linear, out: 17}, {type: leaky_relu}, {type: dropout, p: 0.5}, {type: linear, out: 2}]";
    // Batch norm takes statistics over the shard's samples: the shards must run one by one.
    private const string WithBatchNorm = "input: [8]\nloss: cross_entropy\nlayers: [{type: linear, out: 12}, {type: batchnorm1d}, {type: relu}, {type: linear, out: 4}]";

    public static TheoryData<string, int[], int> Cases => new()
    {
        { SmallMlp, [5, 0, 7, 3], 1 },
        { SmallMlp, [8, 8, 8, 8], 2 },
        { SmallMlp, [0, 6], 1 },
        { SmallMlp, [1], 1 },
        { SmallMlp, [0, 3], 2 },
        { Regression, [3, 4, 3, 4, 3, 4, 3, 4], 2 },
        { WithBatchNorm, [6, 5, 6, 5], 1 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void EqualsTrainShardShardByShardBitwise(string yaml, int[] counts, int threads) =>
        AssertSameAsShardByShard(ModelSpec.Parse(yaml), counts, threads, maxBatch: counts.Sum() + 1);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void TheMlpAtFourShardsOfABatchEqualsShardByShardBitwise(int threads)
    {
        var spec = ModelSpec.Preset("mlp");
        AssertSameAsShardByShard(spec, [32, 32, 32, 32], threads, maxBatch: 128);
        // The epoch's last batch of MNIST (96 samples) and an uneven one.
        AssertSameAsShardByShard(spec, [24, 24, 24, 24], threads, maxBatch: 128);
        AssertSameAsShardByShard(spec, [13, 13, 12, 12], threads, maxBatch: 128);
    }

    [Fact]
    public void ShardsThatDoNotFitTogetherRunOneByOne() =>
        AssertSameAsShardByShard(ModelSpec.Parse(SmallMlp), [4, 4, 4], threads: 1, maxBatch: 5);

    [Fact]
    public void TreeSumsNeedAPowerOfTwoShardsAndABufferOfTheirOwn()
    {
        var model = Model.Create(ModelSpec.Parse(SmallMlp), new CpuCompute(1), 10);
        var summed = model.Compute.Allocate(new Shape(model.Layout.TotalSize));
        Assert.Contains("power-of-two", Assert.Throws<ArgumentException>(() =>
            model.TrainShardsSummed(new float[108], new float[3], [1, 1, 1], default, summed, new ShardResult[3])).Message);
        Assert.Contains("storage with the parameters", Assert.Throws<ArgumentException>(() =>
            model.TrainShardsSummed(new float[72], new float[2], [1, 1], default, model.Parameters, new ShardResult[2])).Message);
    }

    [Fact]
    public void RejectsMismatchedArguments()
    {
        var model = Model.Create(ModelSpec.Parse(SmallMlp), new CpuCompute(1), 10);
        var buffers = new[] { model.Compute.Allocate(new Shape(model.Layout.TotalSize)), model.Compute.Allocate(new Shape(model.Layout.TotalSize)) };
        var results = new ShardResult[2];
        Assert.Contains("2 shards need", Assert.Throws<ArgumentException>(() =>
            model.TrainShards(new float[72], new float[2], [1, 1], default, buffers[..1], results)).Message);
        Assert.Contains("2 samples need", Assert.Throws<ArgumentException>(() =>
            model.TrainShards(new float[70], new float[2], [1, 1], default, buffers, results)).Message);
        Assert.Contains("cannot hold -1", Assert.Throws<ArgumentOutOfRangeException>(() =>
            model.TrainShards(new float[36], new float[1], [2, -1], default, buffers, results)).Message);
        Assert.Contains("Target 1 is 7", Assert.Throws<ArgumentException>(() =>
            model.TrainShards(new float[72], [0f, 7f], [1, 1], default, buffers, results)).Message);
    }

    private static void AssertSameAsShardByShard(ModelSpec spec, int[] counts, int threads, int maxBatch)
    {
        var context = new StepContext(Seed: 11, Epoch: 1, Step: 5, FirstSample: 40);
        var batched = Model.Create(spec, new CpuCompute(threads), maxBatch);
        var single = Model.Create(spec, new CpuCompute(threads), maxBatch);
        batched.Initialize(3);
        single.Initialize(3);
        int total = counts.Sum(), inputSize = spec.Input.Size, targetSize = batched.TargetSize;
        var inputs = TestSupport.RandomFloats(total * inputSize, 17);
        var targets = TestSupport.RandomFloats(total * targetSize, 23, 1f);
        if (batched.TargetSize == 1 && batched.OutputShape.Size > 1)
            for (int i = 0; i < targets.Length; i++) targets[i] = i * 7 % batched.OutputShape.Size;

        var batchedGradients = Buffers(batched, counts.Length);
        var results = new ShardResult[counts.Length];
        batched.TrainShards(inputs, targets, counts, context, batchedGradients, results);

        var singleGradients = Buffers(single, counts.Length);
        int first = 0;
        for (int s = 0; s < counts.Length; s++)
        {
            int count = counts[s];
            string what = $"{string.Join(",", counts)} at {threads} thread(s), shard {s}";
            if (count > 0)
            {
                single.AccumulateInto(singleGradients[s]);
                var expected = single.TrainShard(inputs.AsSpan(first * inputSize, count * inputSize), targets.AsSpan(first * targetSize, count * targetSize),
                    count, context with { FirstSample = context.FirstSample + first });
                single.AccumulateInto(null);
                Assert.True(BitConverter.DoubleToInt64Bits(expected.LossSum) == BitConverter.DoubleToInt64Bits(results[s].LossSum), $"{what}: loss {results[s].LossSum:R}, shard alone {expected.LossSum:R}");
                Assert.Equal((expected.Correct, expected.Count), (results[s].Correct, results[s].Count));
            }
            else
            {
                Assert.Equal(new ShardResult(0, 0, 0), results[s]);
            }
            var want = TestSupport.Download(single.Compute, singleGradients[s]);
            var got = TestSupport.Download(batched.Compute, batchedGradients[s]);
            Assert.True(want.Select(BitConverter.SingleToInt32Bits).SequenceEqual(got.Select(BitConverter.SingleToInt32Bits)), $"{what}: gradients differ");
            first += count;
        }
        Assert.Contains(TestSupport.Download(batched.Compute, batchedGradients[Array.FindIndex(counts, c => c > 0)]), v => v != 0f);
        // The model's own buffer is the target again, and was not touched.
        Assert.All(batchedGradients, buffer => Assert.NotSame(buffer, batched.Gradients));
        Assert.All(TestSupport.Download(batched.Compute, batched.Gradients), v => Assert.Equal(0f, v));

        if (!BitOperations.IsPow2(counts.Length)) return;
        // The tree sum written directly: bitwise the per-shard buffers summed along the tree, over stale contents.
        single.Compute.AddTree(singleGradients, 0, counts.Length);
        var summed = batched.Compute.Allocate(new Shape(batched.Layout.TotalSize));
        batched.Compute.Fill(summed, float.NaN);
        var summedResults = new ShardResult[counts.Length];
        batched.TrainShardsSummed(inputs, targets, counts, context, summed, summedResults);
        Assert.Equal(results, summedResults);
        var wantSum = TestSupport.Download(single.Compute, singleGradients[0]);
        var gotSum = TestSupport.Download(batched.Compute, summed);
        Assert.True(wantSum.Select(BitConverter.SingleToInt32Bits).SequenceEqual(gotSum.Select(BitConverter.SingleToInt32Bits)),
            $"{string.Join(",", counts)} at {threads} thread(s): tree sums differ");
        Assert.All(TestSupport.Download(batched.Compute, batched.Gradients), v => Assert.Equal(0f, v));
    }

    private static Tensor[] Buffers(Model model, int count) =>
        Enumerable.Range(0, count).Select(_ => model.Compute.Allocate(new Shape(model.Layout.TotalSize))).ToArray();
}

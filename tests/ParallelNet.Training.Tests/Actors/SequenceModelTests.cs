using System.Threading.Channels;
using ParallelNet.Actors;
using ParallelNet.Data;
using ParallelNet.NN;
using ParallelNet.NN.Optimizers;
using ParallelNet.Tensors;
using ParallelNet.Tensors.Cpu;
using ParallelNet.Testing;
using ParallelNet.Training.Actors;
using ParallelNet.Training.Actors.Internal;
using static ParallelNet.Training.Tests.Actors.DeterminismTests;
using static ParallelNet.Training.Tests.TrainingFixtures;

namespace ParallelNet.Training.Tests.Actors;

/// <summary>Sequence models on the actors: the same weights for any worker count, embedding gradients shipped as rows.</summary>
public sealed class SequenceModelTests
{
    private const int Vocabulary = 60, Tokens = 6;

    /// <summary>Sentences of token ids whose class is the first token modulo 3; ids below 30 only, so half the table is never touched.</summary>
    internal static DataSplit TokenData(int count = 240)
    {
        var features = new float[count * Tokens];
        var targets = new float[count];
        var rng = new Random(5);
        for (int s = 0; s < count; s++)
        {
            for (int t = 0; t < Tokens; t++) features[s * Tokens + t] = rng.Next(30);
            targets[s] = features[s * Tokens] % 3;
        }
        var all = new Dataset("tokens", new Shape(Tokens), features, targets, 1, 3);
        return new DataSplit(all.Subset(Enumerable.Range(0, count - 40).ToArray(), "tokens-train"),
            all.Subset(Enumerable.Range(count - 40, 40).ToArray(), "tokens-test"), Normalization.Identity);
    }

    internal static ModelSpec EmbeddingLstm() => ModelSpec.Parse(
        $"input: [{Tokens}]\nloss: cross_entropy\nlayers: [{{type: embedding, vocabulary: {Vocabulary}, dim: 8}}, {{type: lstm, hidden: 12}}, {{type: linear, out: 3}}]");

    [Fact]
    public void EmbeddingLstmGivesTheLocalTrainersWeightsWithOneAndThreeWorkers()
    {
        var data = TokenData();
        var options = new TrainingOptions
        {
            Model = EmbeddingLstm(),
            Optimizer = new OptimizerOptions(OptimizerKind.Adam, 0.01f),
            Epochs = 2,
            BatchSize = 32,
            VirtualShards = 4,
            Seed = 3,
        };
        var reference = Trainer(options, data).Run();
        foreach (int workers in new[] { 1, 3 })
        {
            var summary = new ActorTrainer(options, data, Settings(workers)).Run();
            Assert.True(reference.WeightsSha256 == summary.WeightsSha256, $"{workers} worker(s): weights_sha256 {summary.WeightsSha256} differs from the plain loop's {reference.WeightsSha256}");
            Assert.Equal(reference.TrainLoss, summary.TrainLoss);
        }
    }

    [Fact]
    public void MnistLstmGivesTheLocalTrainersWeightsWithOneAndThreeWorkers()
    {
        var full = DatasetCatalog.Load("mnist", TestData.RequireMnistDirectory());
        var data = full with { Test = full.Test.Subset(Enumerable.Range(0, 50).ToArray(), "mnist-test-50") };
        var options = new TrainingOptions
        {
            Model = ModelSpec.Preset("lstm", data.Train.SampleShape, data.Train.Classes),
            Optimizer = new OptimizerOptions(OptimizerKind.Adam, 0.002f),
            BatchSize = 32,
            VirtualShards = 4,
            MaxSteps = 2,
            Seed = 9,
        };
        var reference = Trainer(options, data).Run();
        foreach (int workers in new[] { 1, 3 })
            Assert.Equal(reference.WeightsSha256, new ActorTrainer(options, data, Settings(workers)).Run().WeightsSha256);
    }

    [Fact]
    public async Task AWorkerShipsOnlyTheEmbeddingRowsItsShardsTouched()
    {
        var data = TokenData();
        var options = new TrainingOptions { Model = EmbeddingLstm(), Optimizer = new OptimizerOptions(OptimizerKind.Sgd, 0.1f), BatchSize = 16, VirtualShards = 2, Seed = 3 };
        var model = Model.Create(options.Model, new CpuCompute(1), 1);
        model.Initialize(options.Seed);
        var layout = model.Layout;
        var weights = new float[layout.TotalSize];
        model.Compute.Download(model.Parameters, weights);
        var table = layout["0.weight"];
        Assert.True(table.RowSparse);

        await using var system = ActorSystem.Create("sparse-test");
        var inbox = Channel.CreateUnbounded<object>();
        var server = system.ActorOf(Props.Create(() => new FakeServer(inbox.Writer, weights)), "parameter-server");
        var worker = system.ActorOf(Worker.Props("job", 0, options, data.Train, new CpuCompute(1), server), "worker");
        worker.Tell(new ComputeGradients("job", 0, 1, 0, 0, 16, 2, new ShardBlock(0, 2)), server);

        GradientsComputed? block = null;
        while (block is null) block = await inbox.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30)) as GradientsComputed;
        Assert.Equal(layout.TotalSize - table.Length, block.GradientSum.Length);
        var sparse = Assert.Single(block.SparseRows);
        var permutation = EpochPermutation.Create(options.Seed, 0, data.Train.Count);
        var seen = permutation.Take(16).SelectMany(i => data.Train.SampleFeatures(i).ToArray()).Select(v => (int)v).Distinct().Order().ToArray();
        Assert.Equal(seen, sparse.Rows);
        Assert.Equal(("0.weight", 8, seen.Length * 8), (sparse.Parameter, sparse.RowWidth, sparse.Values.Length));
    }

    [Fact]
    public void PackingRebuildsTheFullGradientBitForBit()
    {
        var layout = Model.Create(EmbeddingLstm(), new CpuCompute(1), 1).Layout;
        var packing = new GradientPacking(layout);
        var table = layout["0.weight"];
        var full = new float[layout.TotalSize];
        var rng = new Random(2);
        for (int i = 0; i < full.Length; i++) full[i] = (float)rng.NextDouble() - 0.5f;
        full.AsSpan(table.Offset, table.Length).Clear();
        full[table.Offset + 3 * 8 + 1] = 0.25f;
        full[table.Offset + 7 * 8 + 5] = -0f; // a -0 row is touched and must stay -0

        var dense = new float[packing.DenseLength];
        packing.PackDense(full, dense);
        var sparse = packing.PackSparse(full);
        Assert.Equal([3, 7], Assert.Single(sparse).Rows);

        var rebuilt = new float[layout.TotalSize];
        rebuilt.AsSpan().Fill(9f);
        packing.Unpack(dense, sparse, rebuilt);
        Assert.Equal(full.Select(BitConverter.SingleToInt32Bits), rebuilt.Select(BitConverter.SingleToInt32Bits));

        var unordered = new[] { sparse[0] with { Rows = [7, 3] } };
        Assert.Contains("increasing", Assert.Throws<TrainingException>(() => packing.Unpack(dense, unordered, rebuilt)).Message);
        var outOfRange = new[] { sparse[0] with { Rows = [3, Vocabulary] } };
        Assert.Throws<TrainingException>(() => packing.Unpack(dense, outOfRange, rebuilt));
    }

    /// <summary>Stands in for the parameter server: answers the subscription with the given weights and forwards the rest.</summary>
    private sealed class FakeServer : ReceiveActor
    {
        public FakeServer(ChannelWriter<object> inbox, float[] weights)
        {
            Receive<SubscribeToWeights>(_ => Sender.Tell(new WeightsPublished("job", 0, weights), Self));
            ReceiveAny(message => inbox.TryWrite(message));
        }
    }
}

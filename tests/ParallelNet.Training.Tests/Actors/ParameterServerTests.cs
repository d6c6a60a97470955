using System.Threading.Channels;
using ParallelNet.Actors;
using ParallelNet.Data;
using ParallelNet.NN;
using ParallelNet.NN.Losses;
using ParallelNet.NN.Optimizers;
using ParallelNet.Tensors;
using ParallelNet.Tensors.Cpu;
using ParallelNet.Training.Actors;
using static ParallelNet.Training.Tests.TrainingFixtures;

namespace ParallelNet.Training.Tests.Actors;

/// <summary>
/// The parameter server counts each block of a step once and ignores blocks of other steps or versions, lends the weights
/// it publishes, and steps bitwise as the plain loop does.
/// </summary>
public sealed class ParameterServerTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task StaleFutureAndDuplicateBlocksAreDropped(bool yieldBeforeApply)
    {
        await using var system = ActorSystem.Create("ps-test");
        var (probe, server, inbox, size) = await StartServer(system, Options(Spirals(), shards: 4), new CpuCompute(1), totalSteps: 10, yieldBeforeApply);

        server.Tell(new SubscribeToWeights("job"), probe);
        var initial = Assert.IsType<WeightsPublished>(await inbox.Reader.ReadAsync().AsTask().WaitAsync(Wait));
        Assert.Equal(0, initial.Version);

        GradientsComputed Block(long step, long version, int first, int count, string job = "job")
            => new(job, step, version, 32, 4, new ShardBlock(first, count), new float[size], [], new double[count]);
        server.Tell(Block(2, 1, 0, 2), probe);            // a step that has not started
        server.Tell(Block(1, 0, 0, 2, job: "other"), probe); // another job's block
        server.Tell(Block(1, 0, 0, 2), probe);
        server.Tell(Block(1, 0, 0, 2), probe);            // the same block again, as after a reissue
        server.Tell(Block(1, 0, 2, 2), probe);
        server.Tell(Block(1, 0, 2, 2), probe);            // late duplicate of an applied step

        // A server that yields before applying may take the hash request first: ask once the step is reported.
        var received = new List<object>();
        while (received.LastOrDefault() is not StepApplied) received.Add(await inbox.Reader.ReadAsync().AsTask().WaitAsync(Wait));
        server.Tell(new ReportWeightsHash("job"), probe);
        while (received.LastOrDefault() is not WeightsHashReported) received.Add(await inbox.Reader.ReadAsync().AsTask().WaitAsync(Wait));
        var applied = Assert.Single(received.OfType<StepApplied>());
        Assert.Equal((1L, 1L, true, 32), (applied.Step, applied.Version, applied.Applied, applied.Samples));
        Assert.Equal(1, Assert.Single(received.OfType<WeightsPublished>()).Version);
        Assert.Equal(1, received.OfType<WeightsHashReported>().Single().Version);
    }

    [Fact]
    public async Task PublishedWeightsStayAsPublishedWhileLentAndAHandedBackMasterIsUpdatedInPlace()
    {
        await using var system = ActorSystem.Create("ps-test");
        var (probe, server, inbox, size) = await StartServer(system);
        async Task<WeightsPublished> NextWeights()
        {
            while (true)
            {
                if (await inbox.Reader.ReadAsync().AsTask().WaitAsync(Wait) is WeightsPublished weights) return weights;
            }
        }
        void Step(long step)
        {
            foreach (int first in new[] { 0, 2 })
                server.Tell(new GradientsComputed("job", step, step - 1, 32, 4, new ShardBlock(first, 2), Enumerable.Repeat(1f, size).ToArray(), [], new double[2]), probe);
        }

        server.Tell(new SubscribeToWeights("job"), probe);
        var initial = await NextWeights();
        var initialValues = initial.Weights.ToArray();
        Step(1); // the probe still holds version 0: the server must not touch that buffer
        var first = await NextWeights();
        Assert.NotSame(initial.Weights, first.Weights);
        Assert.Equal(initialValues, initial.Weights);
        Assert.NotEqual(initialValues, first.Weights);

        var firstValues = first.Weights.ToArray();
        server.Tell(new WeightsBufferReleased("job", first.Weights), probe);
        Step(2); // nobody holds version 1 any more: the server updates that buffer in place and publishes it again
        var second = await NextWeights();
        Assert.Equal(2, second.Version);
        Assert.Same(first.Weights, second.Weights);
        Assert.NotEqual(firstValues, second.Weights);
        Assert.Equal(initialValues, initial.Weights);
    }

    public static TheoryData<string> OptimizerNames() => [.. Optimizers.Keys];

    private static readonly Dictionary<string, OptimizerOptions> Optimizers = new()
    {
        ["sgd"] = new(OptimizerKind.Sgd, 0.1f),
        ["momentum"] = new(OptimizerKind.Sgd, 0.05f, 0.9f),
        ["nesterov"] = new(OptimizerKind.Sgd, 0.05f, 0.9f, Nesterov: true, WeightDecay: 1e-3f),
        ["adam"] = new(OptimizerKind.Adam, 1e-2f),
        ["adamw"] = new(OptimizerKind.AdamW, 1e-2f, WeightDecay: 0.01f, Schedule: new LearningRateSchedule.Cosine(0.1f, WarmupSteps: 1)),
        ["momentum clip value"] = new(OptimizerKind.Sgd, 0.05f, 0.9f, ClipValue: 0.05f),
        ["adam clip norm"] = new(OptimizerKind.Adam, 1e-2f, ClipGlobalNorm: 0.5f),
    };

    /// <summary>
    /// The server combines, checks and averages in one pass and lets the optimizer skip its own check; the published weights
    /// must be bitwise those of the plain way (the blocks' tree sum, then Optimizer.Step dividing and checking), step after
    /// step, and a step with NaN or Inf anywhere (first element, middle, last chunk) must change nothing, the optimizer
    /// state and step count included, which the steps after it show. NaN only in the batch counter's slot is not checked
    /// (the counter gets +1 whatever its gradient), in either way.
    /// </summary>
    [Theory]
    [MemberData(nameof(OptimizerNames))]
    public async Task CombinedCheckedStepsPublishBitwiseThePlainStepsWeightsAndNonFiniteStepsChangeNothing(string optimizer)
    {
        var data = Spirals();
        // Wide enough for many combine chunks split over two threads, with batch-norm slots (statistics and a counter).
        var model = new ModelSpec(data.Train.SampleShape,
            [new LayerSpec("linear", ("out", 7000)), new LayerSpec("batchnorm1d"), new LayerSpec("relu"), new LayerSpec("linear", ("out", data.Train.Classes))],
            LossKind.CrossEntropy);
        var options = Options(data, shards: 4) with { Model = model, Optimizer = Optimizers[optimizer], SkipNonFiniteSteps = true };
        const long totalSteps = 12;
        const int batch = 32;
        var layout = Model.Create(options.Model, new CpuCompute(1), 1).Layout;
        int size = layout.TotalSize;
        Assert.True(size > 32 * 2048, $"only {size} parameters, too few for the combine to use two threads");
        int counter = layout.Parameters.Single(p => p.Role == ParameterRole.BatchCount).Offset;

        await using var system = ActorSystem.Create("ps-test");
        var (probe, server, inbox, _) = await StartServer(system, options, new CpuCompute(2), totalSteps);
        server.Tell(new SubscribeToWeights("job"), probe);
        var initial = Assert.IsType<WeightsPublished>(await inbox.Reader.ReadAsync().AsTask().WaitAsync(Wait));

        var referenceCompute = new CpuCompute(1);
        var reference = new Optimizer(options.Optimizer, layout, referenceCompute);
        var referenceWeights = Tensor.FromArray(initial.Weights.ToArray(), new Shape(size));
        server.Tell(new WeightsBufferReleased("job", initial.Weights), probe);

        ShardBlock[] blocks = [new(0, 2), new(2, 2)];
        var random = new Random(3);
        (int Block, int Position, float Value)?[] plan =
        [
            null, (1, 0, float.NaN), null, (0, size / 2, float.PositiveInfinity), null, (1, size - 1, float.NaN),
            null, (0, counter, float.NaN), null,
        ];
        for (int s = 0; s < plan.Length; s++)
        {
            long step = s + 1;
            var sums = blocks.Select(_ => Enumerable.Range(0, size).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray()).ToArray();
            if (plan[s] is { } bad) sums[bad.Block][bad.Position] = bad.Value;

            var total = new float[size];
            ReductionTree.CombineBlocks(4, blocks, [.. sums.Select(b => (ReadOnlyMemory<float>)b)], total, new float[]?[2]);
            var expected = reference.Step(referenceWeights, Tensor.FromArray(total, new Shape(size)), batch, totalSteps);
            for (int k = 0; k < blocks.Length; k++)
                server.Tell(new GradientsComputed("job", step, step - 1, batch, 4, blocks[k], sums[k].ToArray(), [], new double[2]), probe);

            WeightsPublished? published = null;
            StepApplied? applied = null;
            while (published is null || applied is null)
            {
                switch (await inbox.Reader.ReadAsync().AsTask().WaitAsync(Wait))
                {
                    case WeightsPublished w: published = w; break;
                    case StepApplied a: applied = a; break;
                }
            }
            Assert.Equal((step, step), (applied.Step, published.Version));
            Assert.Equal((expected.Applied, expected.Rejection), (applied.Applied, applied.Rejection));
            Assert.Equal(plan[s] is null || plan[s]!.Value.Position == counter, applied.Applied);
            Assert.True(referenceWeights.Span.SequenceEqual(published.Weights), $"step {step} ({plan[s]?.ToString() ?? "finite"}): weights differ from the plain step's");
            server.Tell(new WeightsBufferReleased("job", published.Weights), probe);
        }
    }

    [Fact]
    public async Task AServerThatYieldsBeforeEachStepEndsWithTheSameWeights()
    {
        var hashes = new List<string>();
        foreach (bool yieldBeforeApply in new[] { false, true })
        {
            await using var system = ActorSystem.Create("ps-test");
            var (probe, server, inbox, size) = await StartServer(system, Options(Spirals(), shards: 4), new CpuCompute(1), totalSteps: 10, yieldBeforeApply);
            server.Tell(new SubscribeToWeights("job"), probe);
            for (long step = 1; step <= 5; step++)
            {
                while (await inbox.Reader.ReadAsync().AsTask().WaitAsync(Wait) is not WeightsPublished published || published.Version != step - 1) { }
                foreach (int first in new[] { 2, 0 }) // out of order, and the last one twice (a reissued block)
                {
                    var gradient = Enumerable.Range(0, size).Select(i => MathF.Sin(i * 0.37f + step + first)).ToArray();
                    server.Tell(new GradientsComputed("job", step, step - 1, 32, 4, new ShardBlock(first, 2), gradient, [], new double[2]), probe);
                    if (first == 0) server.Tell(new GradientsComputed("job", step, step - 1, 32, 4, new ShardBlock(first, 2), gradient, [], new double[2]), probe);
                }
            }
            while (await inbox.Reader.ReadAsync().AsTask().WaitAsync(Wait) is not StepApplied applied || applied.Step != 5) { }
            server.Tell(new ReportWeightsHash("job"), probe);
            WeightsHashReported? reported;
            while ((reported = (await inbox.Reader.ReadAsync().AsTask().WaitAsync(Wait)) as WeightsHashReported) is null) { }
            Assert.Equal(5, reported.Version);
            hashes.Add(reported.WeightsSha256);
        }
        Assert.Equal(hashes[0], hashes[1]);
    }

    /// <summary>A parameter server of a spirals job of 4 shards under a probe; returns the probe, the server, the probe's inbox and the layout size.</summary>
    private static Task<(IActorRef Probe, IActorRef Server, Channel<object> Inbox, int Size)> StartServer(ActorSystem system)
        => StartServer(system, Options(Spirals(), shards: 4), new CpuCompute(1), totalSteps: 10);

    private static async Task<(IActorRef Probe, IActorRef Server, Channel<object> Inbox, int Size)> StartServer(ActorSystem system, TrainingOptions options, ICompute compute, long totalSteps,
        bool yieldBeforeApply = false)
    {
        var data = Spirals();
        int size = Model.Create(options.Model, new CpuCompute(1), 1).Layout.TotalSize;
        var inbox = Channel.CreateUnbounded<object>();
        var probe = system.ActorOf(Props.Create(() => new Probe(ParameterServer.Props("job", options, data, compute, totalSteps, yieldBeforeApply: yieldBeforeApply), inbox.Writer)), "probe");
        return (probe, await probe.Ask<IActorRef>("server?", Wait), inbox, size);
    }

    /// <summary>Parent of the parameter server (which reports to its parent); forwards everything it receives to the test.</summary>
    private sealed class Probe : ReceiveActor
    {
        private readonly Props _child;
        private IActorRef? _server;

        public Probe(Props child, ChannelWriter<object> inbox)
        {
            _child = child;
            Receive<string>(_ => Sender.Tell(_server!, Self));
            ReceiveAny(message => inbox.TryWrite(message));
        }

        protected override void PreStart() => _server = Context.ActorOf(_child, "parameter-server");
    }
}

using System.Threading.Channels;
using ParallelNet.Actors;
using ParallelNet.Data;
using ParallelNet.NN;
using ParallelNet.Tensors.Cpu;
using ParallelNet.Training.Actors;
using static ParallelNet.Training.Tests.TrainingFixtures;

namespace ParallelNet.Training.Tests.Actors;

/// <summary>The parameter server counts each block of a step once and ignores blocks of other steps or versions.</summary>
public sealed class ParameterServerTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task StaleFutureAndDuplicateBlocksAreDropped()
    {
        await using var system = ActorSystem.Create("ps-test");
        var (probe, server, inbox, size) = await StartServer(system);

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
        server.Tell(new ReportWeightsHash("job"), probe);

        var received = new List<object>();
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

    /// <summary>A parameter server of a spirals job of 4 shards under a probe; returns the probe, the server, the probe's inbox and the layout size.</summary>
    private static async Task<(IActorRef Probe, IActorRef Server, Channel<object> Inbox, int Size)> StartServer(ActorSystem system)
    {
        var data = Spirals();
        var options = Options(data, shards: 4);
        int size = Model.Create(options.Model, new CpuCompute(1), 1).Layout.TotalSize;
        var inbox = Channel.CreateUnbounded<object>();
        var probe = system.ActorOf(Props.Create(() => new Probe(ParameterServer.Props("job", options, data, new CpuCompute(1), totalSteps: 10), inbox.Writer)), "probe");
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

using System.Threading.Channels;
using ParallelNet.Actors;
using ParallelNet.Data;
using ParallelNet.NN;
using ParallelNet.NN.Optimizers;
using ParallelNet.Tensors.Cpu;
using ParallelNet.Training.Actors;

namespace ParallelNet.Training.Tests.Actors;

/// <summary>Weights a transport hands over still encoded (WeightsArrived) serve a worker exactly as a decoded array does.</summary>
public sealed class WeightsArrivedTests
{
    [Fact]
    public async Task AWorkerDecodingArrivedWeightsComputesTheSameGradientAndHandsNothingBack()
    {
        float[] published = await GradientWith(weights => new WeightsPublished("job", 0, weights));
        float[] arrived = await GradientWith(weights => new WeightsArrived("job", 0, weights.Length, destination => weights.CopyTo(destination)));
        Assert.Equal(published.Select(BitConverter.SingleToInt32Bits), arrived.Select(BitConverter.SingleToInt32Bits));
    }

    private static (TrainingOptions Options, DataSplit Data, float[] Weights) Setup()
    {
        var data = SequenceModelTests.TokenData();
        var options = new TrainingOptions { Model = SequenceModelTests.EmbeddingLstm(), Optimizer = new OptimizerOptions(OptimizerKind.Sgd, 0.1f), BatchSize = 16, VirtualShards = 2, Seed = 3 };
        var model = Model.Create(options.Model, new CpuCompute(1), 1);
        model.Initialize(options.Seed);
        var weights = new float[model.Layout.TotalSize];
        model.Compute.Download(model.Parameters, weights);
        return (options, data, weights);
    }

    /// <summary>The dense gradient of one block computed by a worker that got its weights as <paramref name="form"/> makes them.</summary>
    private static async Task<float[]> GradientWith(Func<float[], object> form)
    {
        var (options, data, weights) = Setup();
        await using var system = ActorSystem.Create("weights-arrived");
        var inbox = Channel.CreateUnbounded<object>();
        var server = system.ActorOf(Props.Create(() => new FakeServer(inbox.Writer, form(weights))), "parameter-server");
        var worker = system.ActorOf(Worker.Props("job", 0, options, data.Train, new CpuCompute(1), server), "worker");
        worker.Tell(new ComputeGradients("job", 0, 1, 0, 0, 16, 2, new ShardBlock(0, 2)), server);

        var released = new List<WeightsBufferReleased>();
        while (true)
        {
            object message = await inbox.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            if (message is WeightsBufferReleased release) released.Add(release);
            if (message is not GradientsComputed block) continue;
            // A decoded array goes back to its owner; arrived weights leave nothing to hand back.
            Assert.Equal(form(weights) is WeightsPublished ? 1 : 0, released.Count);
            return block.GradientSum;
        }
    }

    /// <summary>Stands in for the parameter server: answers the subscription with the given weights message and forwards the rest.</summary>
    private sealed class FakeServer : ReceiveActor
    {
        public FakeServer(ChannelWriter<object> inbox, object weights)
        {
            Receive<SubscribeToWeights>(_ => Sender.Tell(weights, Self));
            ReceiveAny(message => inbox.TryWrite(message));
        }
    }
}

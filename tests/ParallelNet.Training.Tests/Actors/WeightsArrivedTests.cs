using System.Threading.Channels;
using ParallelNet.Actors;
using ParallelNet.Data;
using ParallelNet.NN;
using ParallelNet.NN.Optimizers;
using ParallelNet.Tensors.Cpu;
using ParallelNet.Training.Actors;

namespace ParallelNet.Training.Tests.Actors;

/// <summary>
/// Memory a transport lends a worker serves it exactly as arrays do: weights read where they arrived (WeightsArrived),
/// and room for a block's gradient sum that the transport sends from without a copy (ReserveBuffer).
/// </summary>
public sealed class WeightsArrivedTests
{
    [Fact]
    public async Task AWorkerReadingArrivedWeightsInPlaceComputesTheSameGradient()
    {
        float[] published = await GradientWith(weights => new WeightsPublished("job", 0, weights));
        float[] arrived = await GradientWith(weights => new WeightsArrived("job", 0, new ReadOnlyMemory<float>(weights), () => { }));
        Assert.Equal(published.Select(BitConverter.SingleToInt32Bits), arrived.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public async Task ArrivedWeightsLentAsForeignMemoryAreReadInPlaceAndHandedBackOnceALaterVersionIsIn()
    {
        var (options, data, weights) = Setup();
        float[] expected = await GradientWith(w => new WeightsPublished("job", 0, w));
        using var first = new ForeignFloats(weights);
        using var second = new ForeignFloats(weights);
        var releases = Channel.CreateUnbounded<string>();
        await using var system = ActorSystem.Create("weights-arrived-foreign");
        var inbox = Channel.CreateUnbounded<object>();
        var server = system.ActorOf(Props.Create(() => new FakeServer(inbox.Writer,
            new WeightsArrived("job", 0, first.Memory, () => releases.Writer.TryWrite("v0")))), "parameter-server");
        var worker = system.ActorOf(Worker.Props("job", 0, options, data.Train, new CpuCompute(1), server), "worker");
        worker.Tell(new ComputeGradients("job", 0, 1, 0, 0, 16, 2, new ShardBlock(0, 2)), server);
        float[] gradient = await NextGradient(inbox.Reader);
        Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), gradient.Select(BitConverter.SingleToInt32Bits));
        Assert.False(releases.Reader.TryRead(out _)); // still in use: the replica reads it in place

        // An older version goes straight back; a newer one replaces the first, which then goes back.
        worker.Tell(new WeightsArrived("job", -1, second.Memory, () => releases.Writer.TryWrite("stale")), server);
        Assert.Equal("stale", await releases.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
        worker.Tell(new WeightsArrived("job", 1, second.Memory, () => releases.Writer.TryWrite("v1")), server);
        Assert.Equal("v0", await releases.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
        system.Stop(worker);
        Assert.Equal("v1", await releases.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task AWorkerComputesItsSumInTheRoomItsTransportReservesAndGivesTheRoomBackOnceSent()
    {
        var (options, data, weights) = Setup();
        float[] expected = await GradientWith(w => new WeightsPublished("job", 0, w));
        var rooms = new List<ForeignFloats>();
        var releases = Channel.CreateUnbounded<int>();
        ReserveBuffer reserve = (recipient, count) =>
        {
            var room = new ForeignFloats(new float[count]);
            int index = rooms.Count;
            rooms.Add(room);
            return new ReservedBuffer(room.Memory, () => releases.Writer.TryWrite(index));
        };
        await using var system = ActorSystem.Create("reserved-gradients");
        var inbox = Channel.CreateUnbounded<object>();
        var server = system.ActorOf(Props.Create(() => new FakeServer(inbox.Writer, new WeightsPublished("job", 0, weights))), "parameter-server");
        var worker = system.ActorOf(Worker.Props("job", 0, options, data.Train, new CpuCompute(1), server, reserve), "worker");
        worker.Tell(new ComputeGradients("job", 0, 1, 0, 0, 16, 2, new ShardBlock(0, 2)), server);

        GradientsComputed block = await NextBlock(inbox.Reader);
        Assert.False(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(block.GradientSum, out _)); // in the room, no array
        Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), block.GradientSum.ToArray().Select(BitConverter.SingleToInt32Bits));
        Assert.False(releases.Reader.TryRead(out _));

        // The transport's sent hook hands the sum back: the room goes back to the transport, not into the worker's pool.
        worker.Tell(new GradientBufferReleased("job", block.GradientSum));
        Assert.Equal(0, await releases.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
        system.Stop(worker);
        foreach (var room in rooms) ((IDisposable)room).Dispose();
    }

    private static async Task<float[]> NextGradient(ChannelReader<object> inbox) => (await NextBlock(inbox)).GradientSum.ToArray();

    private static async Task<GradientsComputed> NextBlock(ChannelReader<object> inbox)
    {
        while (true)
        {
            object message = await inbox.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            if (message is GradientsComputed block) return block;
        }
    }

    /// <summary>A copy of some floats in native memory, as a transport's mapped region lends them (not an array).</summary>
    private sealed unsafe class ForeignFloats : System.Buffers.MemoryManager<float>
    {
        private readonly float* _values;
        private readonly int _length;

        public ForeignFloats(float[] values)
        {
            _length = values.Length;
            _values = (float*)System.Runtime.InteropServices.NativeMemory.Alloc((nuint)_length, sizeof(float));
            values.CopyTo(new Span<float>(_values, _length));
        }

        public override Span<float> GetSpan() => new(_values, _length);
        public override System.Buffers.MemoryHandle Pin(int elementIndex = 0) => new(_values + elementIndex);
        public override void Unpin() { }
        protected override void Dispose(bool disposing) => System.Runtime.InteropServices.NativeMemory.Free(_values);
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
            // A published array goes back to its owner; arrived weights are handed back through their own release.
            Assert.Equal(form(weights) is WeightsPublished ? 1 : 0, released.Count);
            return block.GradientSum.ToArray();
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

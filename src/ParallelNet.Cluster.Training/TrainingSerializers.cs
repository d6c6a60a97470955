using System.Runtime.InteropServices;
using ParallelNet.Actors;
using ParallelNet.Cluster;
using ParallelNet.Data;
using ParallelNet.NN;
using ParallelNet.Training;
using ParallelNet.Training.Actors;

namespace ParallelNet.Cluster.Training;

/// <summary>
/// The wire forms of every training message that crosses nodes. Tensors travel as raw little-endian
/// float32 bytes, referenced (not copied) until they are on the wire; actor references as their cluster
/// paths. The buffer-release notices of the in-process pools are local-only: a remote peer allocates anew.
/// </summary>
public static class TrainingSerializers
{
    /// <summary>Registers the training messages on a node's registry (call before the node starts).</summary>
    /// <param name="traffic">Counts the payload bytes of the training messages this node decodes and encodes (benchmarks).</param>
    public static MessageSerializers AddTrainingMessages(this MessageSerializers serializers, TrainingTraffic? traffic = null)
    {
        ArgumentNullException.ThrowIfNull(serializers);
        serializers
            .Counted<ComputeGradients>(traffic, "train.ComputeGradients", (w, m) =>
            {
                w.WriteString(m.JobId); w.WriteInt32(m.Epoch); w.WriteInt64(m.Step); w.WriteInt64(m.WeightsVersion);
                w.WriteInt32(m.BatchStart); w.WriteInt32(m.BatchCount); w.WriteInt32(m.ShardCount); WriteBlock(w, m.Block);
            }, r => new ComputeGradients(Text(r), r.ReadInt32(), r.ReadInt64(), r.ReadInt64(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), ReadBlock(r)))
            .Counted<GradientsComputed, GradientsArrived>(traffic, "train.GradientsComputed", (w, m) =>
            {
                w.WriteString(m.JobId); w.WriteInt64(m.Step); w.WriteInt64(m.WeightsVersion); w.WriteInt32(m.BatchCount); w.WriteInt32(m.ShardCount);
                WriteBlock(w, m.Block);
                w.WriteFloats(m.GradientSum);
                w.WriteInt32(m.SparseRows.Length);
                foreach (var sparse in m.SparseRows)
                {
                    w.WriteString(sparse.Parameter); w.WriteInt32(sparse.RowWidth);
                    w.WriteBytes(MemoryMarshal.AsBytes(sparse.Rows.AsSpan()).ToArray());
                    w.WriteFloats(sparse.Values);
                }
                w.WriteBytes(MemoryMarshal.AsBytes(m.ShardLosses.AsSpan()).ToArray());
            }, ReadGradients,
                m => 4L * (m.GradientSum.Length + m.SparseRows.Sum(x => x.Values.Length + x.Rows.Length)) + 8L * m.ShardLosses.Length + 64,
                // The gradient went out without a copy: once written, the worker may fill that buffer again.
                (m, worker) => worker.Tell(new GradientBufferReleased(m.JobId, m.GradientSum), ActorRefs.NoSender))
            .Counted<BlockCompleted>(traffic, "train.BlockCompleted", (w, m) =>
            {
                w.WriteString(m.JobId); w.WriteInt64(m.Step); WriteBlock(w, m.Block); w.WriteInt32(m.Samples); w.WriteDouble(m.Seconds);
            }, r => new BlockCompleted(Text(r), r.ReadInt64(), ReadBlock(r), r.ReadInt32(), r.ReadDouble()))
            .Counted<SubscribeToWeights>(traffic, "train.SubscribeToWeights", (w, m) => w.WriteString(m.JobId), r => new SubscribeToWeights(Text(r)))
            // Received as WeightsArrived: the worker's replica reads the weights where they arrived (the sender's ring on one
            // host, else a pooled copy of the frame) and hands them back when the next version is in.
            .Counted<WeightsPublished, WeightsArrived>(traffic, "train.WeightsPublished", (w, m) =>
            {
                w.WriteString(m.JobId); w.WriteInt64(m.Version); w.WriteFloats(m.Weights);
            }, r =>
            {
                string jobId = Text(r);
                long version = r.ReadInt64();
                LentFloats weights = r.ReadLentFloats();
                return new WeightsArrived(jobId, version, weights.Values, weights.Release);
            }, m => 4L * m.Weights.Length + 32,
                // Written without a copy: the parameter server counts this copy as handed back, as a local subscriber would.
                (m, server) => server.Tell(new WeightsBufferReleased(m.JobId, m.Weights), ActorRefs.NoSender))
            .RegisterSingleton("train.RequestJobContext", new RequestJobContext())
            .Counted<JobContext>(traffic, "train.JobContext", (w, m) =>
            {
                w.WriteString(m.JobId); w.WriteString(OptionsCodec.Serialize(m.Options)); w.WriteString(m.Options.Model.ToYaml());
                w.WriteString(m.DataSource); w.WriteActorRef(m.Coordinator); w.WriteActorRef(m.ParameterServer);
            }, r => new JobContext(Text(r), ReadOptions(r), Text(r), Ref(r), Ref(r)))
            .Counted<NoJobRunning>(traffic, "train.NoJobRunning", (w, m) => w.WriteString(m.Reason), r => new NoJobRunning(Text(r)))
            .Counted<RegisterWorker>(traffic, "train.RegisterWorker", (w, m) => { w.WriteString(m.JobId); w.WriteActorRef(m.Worker); },
                r => new RegisterWorker(Text(r), Ref(r)))
            .Counted<WorkerRegistered>(traffic, "train.WorkerRegistered", (w, m) => { w.WriteString(m.JobId); w.WriteInt32(m.Index); },
                r => new WorkerRegistered(Text(r), r.ReadInt32()))
            .Counted<WorkerRefused>(traffic, "train.WorkerRefused", (w, m) => { w.WriteString(m.JobId); w.WriteString(m.Reason); },
                r => new WorkerRefused(Text(r), Text(r)));
        return serializers;
    }

    private static MessageSerializers Counted<T>(this MessageSerializers serializers, TrainingTraffic? traffic, string typeId,
        Action<PayloadWriter, T> write, Func<PayloadReader, T> read, Func<T, long>? size = null, Action<T, IActorRef>? sent = null) where T : class
        => serializers.Counted<T, T>(traffic, typeId, write, read, size, sent);

    private static MessageSerializers Counted<T, TReceived>(this MessageSerializers serializers, TrainingTraffic? traffic, string typeId,
        Action<PayloadWriter, T> write, Func<PayloadReader, TReceived> read, Func<T, long>? size = null, Action<T, IActorRef>? sent = null)
        where T : class where TReceived : class
    {
        if (traffic is null) return serializers.RegisterReceivedAs(typeId, write, read, sent);
        return serializers.RegisterReceivedAs<T, TReceived>(typeId,
            (w, m) => { traffic.AddEncoded(size?.Invoke(m) ?? 48); write(w, m); },
            r => { traffic.AddDecoded(r.Remaining); return read(r); }, sent);
    }

    /// <summary>A gradient block as the parameter server gets it from another process: the dense sum lent where it arrived, the rest decoded.</summary>
    private static GradientsArrived ReadGradients(PayloadReader r)
    {
        string jobId = Text(r);
        long step = r.ReadInt64(), weightsVersion = r.ReadInt64();
        int batchCount = r.ReadInt32(), shardCount = r.ReadInt32();
        ShardBlock block = ReadBlock(r);
        LentFloats sum = r.ReadLentFloats();
        try
        {
            return new GradientsArrived(jobId, step, weightsVersion, batchCount, shardCount, block, sum.Values, ReadSparse(r), ReadDoubles(r), sum.Release);
        }
        catch
        {
            sum.Release();
            throw;
        }
    }

    private static void WriteBlock(PayloadWriter w, ShardBlock block)
    {
        w.WriteInt32(block.FirstShard);
        w.WriteInt32(block.ShardCount);
    }

    private static ShardBlock ReadBlock(PayloadReader r) => new(r.ReadInt32(), r.ReadInt32());

    private static string Text(PayloadReader r) => r.ReadString() ?? throw new FormatException("A required text field is missing.");

    private static ParallelNet.Actors.IActorRef Ref(PayloadReader r) => r.ReadActorRef() ?? throw new FormatException("A required actor reference is missing.");

    private static TrainingOptions ReadOptions(PayloadReader r)
    {
        string json = Text(r), yaml = Text(r);
        try
        {
            var options = OptionsCodec.Deserialize(json, yaml);
            options.Validate();
            return options;
        }
        catch (Exception e) when (e is ModelSpecException or ArgumentException or System.Text.Json.JsonException or NotSupportedException)
        {
            throw new FormatException($"The job's options do not parse: {e.Message}", e);
        }
    }

    private static SparseGradient[] ReadSparse(PayloadReader r)
    {
        int count = r.ReadInt32();
        if (count < 0 || count > r.Remaining) throw new FormatException($"The payload announces {count} sparse gradients.");
        var sparse = new SparseGradient[count];
        for (int i = 0; i < count; i++)
        {
            string parameter = Text(r);
            int width = r.ReadInt32();
            var rowBytes = r.ReadBytes();
            if (rowBytes.Length % sizeof(int) != 0) throw new FormatException("Sparse gradient rows are not whole int32 values.");
            sparse[i] = new SparseGradient(parameter, width, MemoryMarshal.Cast<byte, int>(rowBytes.Span).ToArray(), r.ReadFloats());
        }
        return sparse;
    }

    private static double[] ReadDoubles(PayloadReader r)
    {
        var bytes = r.ReadBytes();
        if (bytes.Length % sizeof(double) != 0) throw new FormatException("Shard losses are not whole float64 values.");
        return MemoryMarshal.Cast<byte, double>(bytes.Span).ToArray();
    }
}

/// <summary>Payload bytes of the training messages a node has encoded (estimated from their fields) and decoded (exact); framing excluded.</summary>
public sealed class TrainingTraffic
{
    private long _encoded, _decoded;
    public long EncodedBytes => Interlocked.Read(ref _encoded);
    public long DecodedBytes => Interlocked.Read(ref _decoded);
    internal void AddEncoded(long bytes) => Interlocked.Add(ref _encoded, bytes);
    internal void AddDecoded(long bytes) => Interlocked.Add(ref _decoded, bytes);
}

using System.Diagnostics;
using System.Text.Json;
using Google.Protobuf;
using ParallelNet.Actors;
using ParallelNet.Cluster;
using ParallelNet.Cli.Bench.Protos;
using ParallelNet.Rpc;

namespace ParallelNet.Cli.Bench;

internal sealed record ClusterBenchmarkOptions(int SmallMessages, IReadOnlyList<int> TensorSizesKiB, int TotalMiB, bool Json);

/// <summary>
/// `parallelnet bench cluster transport`: two cluster nodes in one process on loopback. Small messages per second
/// through a RemoteActorRef beside the same actor told locally; tensor MB/s on the stream (chunked into 4 MiB frames)
/// and through the same-host shared-memory ring, beside a bare gRPC client stream of the same bytes, the stream's ceiling.
/// </summary>
internal static class ClusterBenchmark
{
    private sealed record Numbered(int Value);

    private sealed record Tensor(float[] Values);

    private sealed record Row(string Measure, string Size, double Ours, double Peer, string Unit, string PeerName);

    private sealed class Counter : ReceiveActor
    {
        public Counter(Action<object> onMessage) => ReceiveAny(onMessage);
    }

    public static int Run(ClusterBenchmarkOptions o, TextWriter output)
    {
        if (o.SmallMessages < 1 || o.TotalMiB < 1 || o.TensorSizesKiB.Count == 0 || o.TensorSizesKiB.Any(s => s < 1))
            throw new UsageException("--messages, --total-mib and --sizes (KiB) must be positive.");
        List<Row> rows = MeasureAsync(o).GetAwaiter().GetResult();
        if (o.Json)
        {
            foreach (Row row in rows) output.WriteLine(JsonSerializer.Serialize(row));
            return ExitCodes.Success;
        }
        output.WriteLine($"{"measure",-22} {"size",10} {"ParallelNet",14} {"peer",14}  unit    peer");
        foreach (Row row in rows)
            output.WriteLine($"{row.Measure,-22} {row.Size,10} {row.Ours,14:N0} {row.Peer,14:N0}  {row.Unit,-6}  {row.PeerName}");
        return ExitCodes.Success;
    }

    private static ClusterNodeOptions NodeOptions(string name, bool sharedMemory, params string[] seeds)
    {
        var options = new ClusterNodeOptions { SystemName = name, MaxQueuedMessagesPerPeer = 10_000_000, MaxQueuedBytesPerPeer = 2L << 30 };
        if (!sharedMemory) options.SharedMemoryDirectory = null;
        foreach (string seed in seeds) options.Seeds.Add(seed);
        options.Serializers.Register<Numbered>("bench.Numbered", (w, m) => w.WriteInt32(m.Value), r => new Numbered(r.ReadInt32()));
        options.Serializers.Register<Tensor>("bench.Tensor", (w, m) => w.WriteFloats(m.Values), r => new Tensor(r.ReadFloats()));
        return options;
    }

    private static async Task<List<Row>> MeasureAsync(ClusterBenchmarkOptions o)
    {
        await using ClusterNode a = await ClusterNode.StartAsync(NodeOptions("bench-a", sharedMemory: true));
        await using ClusterNode b = await ClusterNode.StartAsync(NodeOptions("bench-b", sharedMemory: true, $"127.0.0.1:{a.Port}"));
        await using ClusterNode streamA = await ClusterNode.StartAsync(NodeOptions("bench-stream-a", sharedMemory: false));
        await using ClusterNode streamB = await ClusterNode.StartAsync(NodeOptions("bench-stream-b", sharedMemory: false, $"127.0.0.1:{streamA.Port}"));
        var joined = Stopwatch.StartNew();
        while (a.Members.Count == 0 || b.Members.Count == 0 || streamA.Members.Count == 0 || streamB.Members.Count == 0)
        {
            if (joined.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException("The benchmark nodes did not join within 30 s.");
            await Task.Delay(10);
        }

        var rows = new List<Row>();
        // A first pass lets the tiered JIT optimize the paths measured next.
        await SmallMessagesPerSecondAsync(b.System, a.ActorRefFor, b.SelfAddress, o.SmallMessages / 4, viaCluster: true);
        double remote = await SmallMessagesPerSecondAsync(b.System, a.ActorRefFor, b.SelfAddress, o.SmallMessages, viaCluster: true);
        double local = await SmallMessagesPerSecondAsync(b.System, a.ActorRefFor, b.SelfAddress, o.SmallMessages, viaCluster: false);
        rows.Add(new Row("small messages", "4 B", remote, local, "msg/s", "local Tell"));
        rows.Add(new Row("ask round trip", "4 B", await AskRoundTripsPerSecondAsync(a, b), 0, "ask/s", "-"));

        await using GrpcServer raw = await GrpcServer.StartAsync(new GrpcServerOptions { MaxReceiveMessageSize = RpcBenchService.MessageLimit, Services = { RpcBenchService.Definition() } });
        using var client = new GrpcClient(raw.LoopbackAddress, new GrpcClientOptions { MaxReceiveMessageSize = RpcBenchService.MessageLimit });
        foreach (int sizeKiB in o.TensorSizesKiB)
        {
            int count = Math.Max(4, o.TotalMiB * 1024 / sizeKiB);
            var tensor = new float[sizeKiB * 256];
            await RawGrpcBytesPerSecondAsync(client, sizeKiB * 1024, Math.Min(count, 8));
            double peer = await RawGrpcBytesPerSecondAsync(client, sizeKiB * 1024, count);
            foreach (var (path, from, to) in new[] { ("tensors, stream", streamA, streamB), ("tensors, shared mem", a, b) })
            {
                await TensorBytesPerSecondAsync(from, to, tensor, Math.Min(count, 8));
                double ours = await TensorBytesPerSecondAsync(from, to, tensor, count);
                rows.Add(new Row(path, $"{sizeKiB} KiB", ours / 1e6, peer / 1e6, "MB/s", "bare gRPC stream"));
            }
        }
        return rows;
    }

    private static async Task<double> SmallMessagesPerSecondAsync(ActorSystem receiverSystem, Func<Address, string, IActorRef> refFor, Address receiverNode, int count, bool viaCluster)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int received = 0;
        string name = "counter-" + Guid.NewGuid().ToString("N");
        IActorRef counter = receiverSystem.ActorOf(Props.Create(() => new Counter(_ => { if (++received == count) done.TrySetResult(); })), name);
        IActorRef target = viaCluster ? refFor(receiverNode, "/user/" + name) : counter;
        var message = new Numbered(1);
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < count; i++) target.Tell(message);
        await done.Task.WaitAsync(TimeSpan.FromMinutes(5));
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        receiverSystem.Stop(counter);
        return count / seconds;
    }

    private sealed class Echo : ReceiveActor
    {
        public Echo() => Receive<Numbered>(n => Sender.Tell(n, Self));
    }

    private static async Task<double> AskRoundTripsPerSecondAsync(ClusterNode a, ClusterNode b)
    {
        b.System.ActorOf(Props.Create(() => new Echo()), "echo");
        IActorRef echo = a.ActorRefFor(b.SelfAddress, "/user/echo");
        var message = new Numbered(1);
        for (int i = 0; i < 200; i++) await echo.Ask<Numbered>(message, TimeSpan.FromSeconds(30));
        const int rounds = 2000;
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < rounds; i++) await echo.Ask<Numbered>(message, TimeSpan.FromSeconds(30));
        return rounds / Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    /// <summary>Sends <paramref name="count"/> tensors with at most 16 in flight (the bare stream has no limit) and returns bytes/s.</summary>
    private static async Task<double> TensorBytesPerSecondAsync(ClusterNode a, ClusterNode b, float[] tensor, int count)
    {
        using var inFlight = new SemaphoreSlim(16);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int received = 0;
        string name = "sink-" + Guid.NewGuid().ToString("N");
        IActorRef sink = b.System.ActorOf(Props.Create(() => new Counter(_ =>
        {
            inFlight.Release();
            if (++received == count) done.TrySetResult();
        })), name);
        IActorRef target = a.ActorRefFor(b.SelfAddress, "/user/" + name);
        var message = new Tensor(tensor);
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < count; i++)
        {
            await inFlight.WaitAsync();
            target.Tell(message);
        }
        await done.Task.WaitAsync(TimeSpan.FromMinutes(5));
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        b.System.Stop(sink);
        return (double)count * tensor.Length * sizeof(float) / seconds;
    }

    private static async Task<double> RawGrpcBytesPerSecondAsync(GrpcClient client, int size, int count)
    {
        var payload = new Payload { Data = ByteString.CopyFrom(new byte[size]) };
        long start = Stopwatch.GetTimestamp();
        using var call = client.AsyncClientStreamingCall(RpcBenchService.Upload, CallOptions.WithTimeout(TimeSpan.FromMinutes(5)));
        for (int i = 0; i < count; i++) await call.RequestStream.WriteAsync(payload);
        await call.RequestStream.CompleteAsync();
        long bytes = (await call).Bytes;
        return bytes / Stopwatch.GetElapsedTime(start).TotalSeconds;
    }
}

using System.CommandLine;
using ParallelNet.Cli.Bench;
using ParallelNet.Rpc;

namespace ParallelNet.Cli.Commands;

internal static class BenchCommand
{
    public static Command Create()
    {
        var gemmThreads = new Option<int[]>("--threads") { Description = "Thread counts to measure.", DefaultValueFactory = _ => [1, 2], AllowMultipleArgumentsPerToken = true };
        var gemmJson = new Option<bool>("--json") { Description = "JSON lines instead of a table." };
        var repeats = new Option<int>("--repeats") { Description = "Timed repetitions per shape.", DefaultValueFactory = _ => 5 };
        var gemmDevice = new Option<string>("--device") { Description = "cpu (ours against OpenBLAS) or opencl[:N] (CLBlast beside the CPU backend).", DefaultValueFactory = _ => "cpu" };
        var gemm = new Command("gemm", "GEMM GFLOP/s against OpenBLAS sgemm in the same process.") { gemmThreads, gemmJson, repeats, gemmDevice };
        gemm.SetAction(parse =>
        {
            var options = new GemmBenchmarkOptions
            {
                Threads = parse.GetValue(gemmThreads)!,
                Json = parse.GetValue(gemmJson),
                Repeats = parse.GetValue(repeats),
            };
            string device = parse.GetValue(gemmDevice)!;
            return device == "cpu"
                ? GemmBenchmark.Run(options, parse.InvocationConfiguration.Output)
                : OpenClGemmBenchmark.Run(device, options, parse.InvocationConfiguration.Output);
        });

        var models = new Option<string[]>("--model") { Description = "Models to measure.", DefaultValueFactory = _ => ["mlp", "cnn"], AllowMultipleArgumentsPerToken = true };
        var threads = new Option<int[]>("--threads") { Description = "ParallelNet thread counts.", DefaultValueFactory = _ => [1, 2], AllowMultipleArgumentsPerToken = true };
        var shards = new Option<int[]>("--virtual-shards") { Description = "Virtual shard counts.", DefaultValueFactory = _ => [1, 4], AllowMultipleArgumentsPerToken = true };
        var batch = new Option<int>("--batch-size") { DefaultValueFactory = _ => 128 };
        var warmup = new Option<int>("--warmup-steps") { DefaultValueFactory = _ => 60 };
        var steps = new Option<int>("--steps") { DefaultValueFactory = _ => 200 };
        var dataDir = new Option<DirectoryInfo?>("--data-dir") { Description = "Directory with the MNIST IDX files." };
        var json = new Option<bool>("--json") { Description = "JSON lines instead of a table." };
        var rounds = new Option<int>("--rounds") { Description = "Interleaved rounds of the peer and ours; each side keeps its best (fairer on a loaded machine).", DefaultValueFactory = _ => 1 };
        var trainDevice = new Option<string>("--device") { Description = "cpu (the CPU rows) or opencl[:N] (an OpenCL row per model beside them).", DefaultValueFactory = _ => "cpu" };
        var noPeer = new Option<bool>("--no-peer") { Description = "Measure ParallelNet only (quicker, for profiling); no PyTorch column." };
        var train = new Command("train", "Training samples/s against PyTorch 1.13 on the same model, batch and data.") { models, threads, shards, batch, warmup, steps, dataDir, json, rounds, trainDevice, noPeer };
        train.SetAction(parse => TrainBenchmark.Run(new TrainBenchmarkOptions(parse.GetValue(models)!, parse.GetValue(threads)!, parse.GetValue(shards)!,
            parse.GetValue(batch), parse.GetValue(warmup), parse.GetValue(steps), parse.GetValue(dataDir)?.FullName, parse.GetValue(json), Rounds: parse.GetValue(rounds), Device: parse.GetValue(trainDevice)!, MeasurePeer: !parse.GetValue(noPeer)),
            parse.InvocationConfiguration.Output));

        var actors = ActorsCommand();

        var rpcSizes = new Option<int[]>("--sizes") { Description = "Message sizes in MiB.", DefaultValueFactory = _ => [1, 16, 64], AllowMultipleArgumentsPerToken = true };
        var rpcTotal = new Option<int>("--total-mib") { Description = "MiB moved per streaming measurement.", DefaultValueFactory = _ => 512 };
        var rpcUnaryCalls = new Option<int>("--unary-calls") { Description = "Timed unary calls per size (the median is reported).", DefaultValueFactory = _ => 8 };
        var rpcJson = new Option<bool>("--json") { Description = "JSON lines instead of a table." };
        var rpcNoPeer = new Option<bool>("--no-grpcio") { Description = "Measure ParallelNet only (quicker, for profiling); no grpcio column." };
        var rpcTransport = new Option<GrpcClientTransport>("--transport") { Description = "Our client's HTTP/2 stack: Native (ours) or SocketsHttpHandler (.NET's), to compare them.", DefaultValueFactory = _ => GrpcClientTransport.Native };
        var rpcServerTransport = new Option<GrpcServerTransport>("--server-transport") { Description = "Our server's HTTP/2 stack: Http2 (ours) or Kestrel, to compare them.", DefaultValueFactory = _ => GrpcServerTransport.Http2 };
        var grpc = new Command("grpc", "gRPC unary latency and streaming throughput between two ParallelNet processes, beside python grpcio.") { rpcSizes, rpcTotal, rpcUnaryCalls, rpcJson, rpcNoPeer, rpcTransport, rpcServerTransport };
        grpc.SetAction(parse => RpcBenchmark.Run(new RpcBenchmarkOptions(parse.GetValue(rpcSizes)!, parse.GetValue(rpcTotal), parse.GetValue(rpcUnaryCalls), parse.GetValue(rpcJson),
            MeasureGrpcio: !parse.GetValue(rpcNoPeer), Transport: parse.GetValue(rpcTransport), ServerTransport: parse.GetValue(rpcServerTransport)), parse.InvocationConfiguration.Output));

        // The server half of `bench grpc`, started by it as a child process; not meant to be run by hand.
        var serverPort = new Option<int>("--port") { DefaultValueFactory = _ => 0 };
        var serverHost = new Option<string>("--host") { DefaultValueFactory = _ => "127.0.0.1" };
        var grpcServer = new Command("grpc-server", "Serves the gRPC benchmark service until standard input closes.") { serverPort, serverHost, rpcServerTransport };
        grpcServer.Hidden = true;
        grpcServer.SetAction((parse, cancellationToken) => RpcBenchService.ServeAsync(parse.GetValue(serverHost)!, parse.GetValue(serverPort), parse.GetValue(rpcServerTransport),
            parse.InvocationConfiguration.Output, Console.In, cancellationToken));

        return new Command("bench", "Benchmarks that print ParallelNet's figures beside a peer's, measured in the same run.") { gemm, train, grpc, grpcServer, actors, Bench.Word2VecBenchmark.Create(), ClusterCommand(), ParameterServerApplyBenchmark.Create() };
    }

    private static Command ClusterCommand()
    {
        var messages = new Option<int>("--messages") { Description = "Small messages per measurement.", DefaultValueFactory = _ => 200_000 };
        var sizes = new Option<int[]>("--sizes") { Description = "Tensor message sizes in KiB.", DefaultValueFactory = _ => [64, 2688, 16384], AllowMultipleArgumentsPerToken = true };
        var total = new Option<int>("--total-mib") { Description = "MiB moved per tensor measurement.", DefaultValueFactory = _ => 256 };
        var json = new Option<bool>("--json") { Description = "JSON lines instead of a table." };
        var transport = new Command("transport", "Remote actor messages between two cluster nodes on loopback: msgs/s beside local Tell, MB/s beside a bare gRPC stream.") { messages, sizes, total, json };
        transport.SetAction(parse => ClusterBenchmark.Run(new ClusterBenchmarkOptions(parse.GetValue(messages), parse.GetValue(sizes)!, parse.GetValue(total), parse.GetValue(json)),
            parse.InvocationConfiguration.Output));

        var workers = new Option<int>("--workers") { Description = "Worker processes.", DefaultValueFactory = _ => 2 };
        var warmup = new Option<int>("--warmup-steps") { Description = "Untimed steps first, so fresh worker processes finish tiered JIT compilation (100 steps leave workers at half speed).", DefaultValueFactory = _ => 600 };
        var steps = new Option<int>("--steps") { DefaultValueFactory = _ => 300 };
        var dataDir = new Option<DirectoryInfo?>("--data-dir") { Description = "Directory with the MNIST IDX files." };
        var python = new Option<string>("--python") { Description = "Python with torch for the DDP peer.", DefaultValueFactory = _ => "/usr/bin/python3" };
        var serverTransports = new Option<GrpcServerTransport[]>("--server-transport")
        {
            Description = "The coordinator's HTTP/2 server (Http2 = ours, Kestrel); several values measure the cluster once with each, in one run.",
            DefaultValueFactory = _ => [new ParallelNet.Cluster.ClusterNodeOptions().ServerTransport],
            AllowMultipleArgumentsPerToken = true,
        };
        var tensorPaths = new Option<Bench.TensorPath[]>("--tensor-path")
        {
            Description = "How the tensors travel between the processes: SharedMemory (same-host rings, the default on one host), Stream (TCP, as between hosts); several values measure each in one run.",
            DefaultValueFactory = _ => [Bench.TensorPath.SharedMemory, Bench.TensorPath.Stream],
            AllowMultipleArgumentsPerToken = true,
        };
        var clusterRounds = new Option<int>("--rounds") { Description = "Rounds of one process and each cluster variant taking turns; each keeps its fastest (steadier ratios on a shared host).", DefaultValueFactory = _ => 1 };
        var noDdp = new Option<bool>("--no-ddp") { Description = "Skip the PyTorch DDP peer (quicker runs while comparing ParallelNet variants)." };
        var command = new Command("cluster", "mlp on MNIST (batch 128): coordinator + worker processes on loopback against single-process training, PyTorch DDP beside it; bytes per step and where a step's time goes.")
        {
            workers, warmup, steps, dataDir, python, serverTransports, tensorPaths, clusterRounds, noDdp, transport,
        };
        command.SetAction(parse => ClusterTrainingBenchmark.Run(new ClusterTrainingBenchmarkOptions(parse.GetValue(workers), parse.GetValue(warmup), parse.GetValue(steps),
            parse.GetValue(dataDir)?.FullName, parse.GetValue(python)!, parse.GetValue(serverTransports)!, parse.GetValue(tensorPaths)!, !parse.GetValue(noDdp), parse.GetValue(clusterRounds)), parse.InvocationConfiguration.Output));
        return command;
    }

    private static Command ActorsCommand()
    {
        var model = new Option<string>("--model") { Description = "Model of the overhead table.", DefaultValueFactory = _ => "mlp" };
        var workers = new Option<int[]>("--workers") { Description = "In-process worker counts of the overhead table.", DefaultValueFactory = _ => [1, 2, 4], AllowMultipleArgumentsPerToken = true };
        var shards = new Option<int>("--virtual-shards") { Description = "Virtual shards of the overhead table.", DefaultValueFactory = _ => 4 };
        var shardModels = new Option<string[]>("--shard-models") { Description = "Models of the S-cost table.", DefaultValueFactory = _ => ["mlp", "cnn"], AllowMultipleArgumentsPerToken = true };
        var shardCounts = new Option<int[]>("--shard-counts") { Description = "S values of the S-cost table.", DefaultValueFactory = _ => [1, 2, 4, 8], AllowMultipleArgumentsPerToken = true };
        var batch = new Option<int>("--batch-size") { DefaultValueFactory = _ => 128 };
        var warmup = new Option<int>("--warmup-steps") { Description = "Untimed steps first, so tiered JIT compilation is done before timing.", DefaultValueFactory = _ => 60 };
        var steps = new Option<int>("--steps") { DefaultValueFactory = _ => 60 };
        var repeats = new Option<int>("--repeats") { Description = "Runs per figure; the best counts.", DefaultValueFactory = _ => 2 };
        var dataDir = new Option<DirectoryInfo?>("--data-dir") { Description = "Directory with the MNIST IDX files." };
        var json = new Option<bool>("--json") { Description = "JSON lines instead of tables." };
        var command = new Command("actors", "Actor overhead against the plain loop, and the cost of the virtual shard count S.") { model, workers, shards, shardModels, shardCounts, batch, warmup, steps, repeats, dataDir, json };
        command.SetAction(parse => ActorBenchmark.Run(new ActorBenchmarkOptions(parse.GetValue(model)!, parse.GetValue(workers)!, parse.GetValue(shards),
            parse.GetValue(shardModels)!, parse.GetValue(shardCounts)!, parse.GetValue(batch), parse.GetValue(warmup), parse.GetValue(steps),
            parse.GetValue(repeats), parse.GetValue(dataDir)?.FullName, parse.GetValue(json)), parse.InvocationConfiguration.Output));
        return command;
    }
}

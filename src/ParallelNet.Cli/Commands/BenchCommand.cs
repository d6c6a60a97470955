using System.CommandLine;
using ParallelNet.Cli.Bench;

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
        var train = new Command("train", "Training samples/s against PyTorch 1.13 on the same model, batch and data.") { models, threads, shards, batch, warmup, steps, dataDir, json };
        train.SetAction(parse => TrainBenchmark.Run(new TrainBenchmarkOptions(parse.GetValue(models)!, parse.GetValue(threads)!, parse.GetValue(shards)!,
            parse.GetValue(batch), parse.GetValue(warmup), parse.GetValue(steps), parse.GetValue(dataDir)?.FullName, parse.GetValue(json)), parse.InvocationConfiguration.Output));

        return new Command("bench", "Benchmarks that print ParallelNet's figures beside a peer's, measured in the same run.") { gemm, train };
    }
}

using System.CommandLine;
using ParallelNet.Data;
using ParallelNet.NN;
using ParallelNet.NN.Optimizers;
using ParallelNet.Training;

namespace ParallelNet.Cli.Commands;

/// <summary>The model, data and hyperparameter flags shared by `train` and (later) `submit`.</summary>
internal sealed class TrainingFlags
{
    public Option<string?> Model { get; } = new("--model") { Description = "Preset: " + string.Join(", ", ModelSpec.Presets) + "." };
    public Option<FileInfo?> ModelFile { get; } = new("--model-file") { Description = "YAML model spec (a list of layers with their options)." };
    public Option<string> Data { get; } = new("--data") { Description = "mnist, spirals, blobs, linear, or a CSV file (numeric features, label last).", DefaultValueFactory = _ => "mnist" };
    public Option<DirectoryInfo?> DataDir { get; } = new("--data-dir") { Description = "Directory with the MNIST IDX files (default: the cache filled by 'parallelnet data fetch mnist')." };
    public Option<int> Epochs { get; } = new("--epochs") { Description = "Passes over the training set.", DefaultValueFactory = _ => 3 };
    public Option<int> BatchSize { get; } = new("--batch-size") { Description = "Global mini-batch size.", DefaultValueFactory = _ => 128 };
    public Option<string> Optimizer { get; } = new("--optimizer") { Description = "sgd, adam or adamw.", DefaultValueFactory = _ => "sgd" };
    public Option<float?> LearningRate { get; } = new("--lr") { Description = "Learning rate (default 0.05 for sgd, 0.001 for adam/adamw)." };
    public Option<float?> Momentum { get; } = new("--momentum") { Description = "SGD momentum (default 0.9)." };
    public Option<bool> Nesterov { get; } = new("--nesterov") { Description = "Nesterov momentum (SGD)." };
    public Option<float> WeightDecay { get; } = new("--weight-decay") { Description = "Weight decay (PyTorch semantics; decoupled for adamw)." };
    public Option<string> Schedule { get; } = new("--lr-schedule") { Description = "constant, step:STEPS:GAMMA or cosine[:MIN_FACTOR[:WARMUP]].", DefaultValueFactory = _ => "constant" };
    public Option<float> ClipNorm { get; } = new("--clip-norm") { Description = "Clip the gradient's global L2 norm to this value (0 = off)." };
    public Option<float> ClipValue { get; } = new("--clip-value") { Description = "Clamp every gradient element to [-X, X] (0 = off)." };
    public Option<ulong> Seed { get; } = new("--seed") { Description = "Seed of initialization, shuffling and dropout.", DefaultValueFactory = _ => 1UL };
    public Option<long> MaxSteps { get; } = new("--max-steps") { Description = "Stop after this global step (0 = all epochs)." };
    public Option<int> VirtualShards { get; } = new("--virtual-shards") { Description = "Virtual shards per batch (power of two).", DefaultValueFactory = _ => 4 };
    public Option<bool> SkipNonFinite { get; } = new("--skip-nonfinite-steps") { Description = "Skip a step whose gradient holds NaN/Inf instead of failing." };

    public IEnumerable<Option> All => [Model, ModelFile, Data, DataDir, Epochs, BatchSize, Optimizer, LearningRate, Momentum, Nesterov,
        WeightDecay, Schedule, ClipNorm, ClipValue, Seed, MaxSteps, VirtualShards, SkipNonFinite];

    public DataSplit LoadData(ParseResult parse)
        => DatasetCatalog.Load(parse.GetValue(Data)!, parse.GetValue(DataDir)?.FullName);

    public TrainingOptions BuildOptions(ParseResult parse, DataSplit data)
    {
        var modelName = parse.GetValue(Model);
        var modelFile = parse.GetValue(ModelFile);
        if (modelName is not null && modelFile is not null) throw new UsageException("give either --model or --model-file, not both.");
        ModelSpec spec = modelFile is not null
            ? (modelFile.Exists ? ModelSpec.Parse(File.ReadAllText(modelFile.FullName)) : throw new UsageException($"model file '{modelFile.FullName}' does not exist."))
            : ModelSpec.Preset(modelName ?? "mlp", data.Train.SampleShape, data.Train.Classes > 0 ? data.Train.Classes : null);

        var kind = parse.GetValue(Optimizer)!.ToLowerInvariant() switch
        {
            "sgd" => OptimizerKind.Sgd,
            "adam" => OptimizerKind.Adam,
            "adamw" => OptimizerKind.AdamW,
            var other => throw new UsageException($"unknown optimizer '{other}': use sgd, adam or adamw."),
        };
        float lr = parse.GetValue(LearningRate) ?? (kind == OptimizerKind.Sgd ? 0.05f : 0.001f);
        float momentum = parse.GetValue(Momentum) ?? (kind == OptimizerKind.Sgd ? 0.9f : 0f);
        if (kind != OptimizerKind.Sgd && parse.GetValue(Momentum) is not null) throw new UsageException($"--momentum applies to sgd only; {kind} uses its own moment estimates.");
        var optimizer = new OptimizerOptions(kind, lr, momentum, parse.GetValue(Nesterov), parse.GetValue(WeightDecay),
            ClipGlobalNorm: parse.GetValue(ClipNorm), ClipValue: parse.GetValue(ClipValue), Schedule: OptionsCodec.ParseSchedule(parse.GetValue(Schedule)));
        var options = new TrainingOptions
        {
            Model = spec,
            Optimizer = optimizer,
            Epochs = parse.GetValue(Epochs),
            BatchSize = parse.GetValue(BatchSize),
            VirtualShards = parse.GetValue(VirtualShards),
            Seed = parse.GetValue(Seed),
            MaxSteps = parse.GetValue(MaxSteps),
            SkipNonFiniteSteps = parse.GetValue(SkipNonFinite),
        };
        options.Validate();
        return options;
    }
}

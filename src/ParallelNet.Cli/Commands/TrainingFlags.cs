using System.CommandLine;
using ParallelNet.Data;
using ParallelNet.Jobs;
using ParallelNet.NN;
using ParallelNet.Training;

namespace ParallelNet.Cli.Commands;

/// <summary>
/// The model, data and hyperparameter flags shared by `train`, `submit` (and `node`); their defaults are
/// <see cref="TrainingJobSpec.Defaults"/>, so a flag left out means the same on the command line, in a job file and on the wire.
/// </summary>
internal sealed class TrainingFlags
{
    public Option<string?> Model { get; } = new("--model") { Description = "Preset: " + string.Join(", ", ModelSpec.Presets) + "." };
    public Option<FileInfo?> ModelFile { get; } = new("--model-file") { Description = "YAML model spec (a list of layers with their options)." };
    public Option<string> Data { get; } = new("--data") { Description = "mnist, spirals, blobs, linear, or a CSV file (numeric features, label last).", DefaultValueFactory = _ => TrainingJobSpec.Defaults.Data };
    public Option<DirectoryInfo?> DataDir { get; } = new("--data-dir") { Description = "Directory with the MNIST IDX files (default: the cache filled by 'parallelnet data fetch mnist')." };
    public Option<int> Epochs { get; } = new("--epochs") { Description = "Passes over the training set.", DefaultValueFactory = _ => TrainingJobSpec.Defaults.Epochs };
    public Option<int> BatchSize { get; } = new("--batch-size") { Description = "Global mini-batch size.", DefaultValueFactory = _ => TrainingJobSpec.Defaults.BatchSize };
    public Option<string> Optimizer { get; } = new("--optimizer") { Description = "sgd, adam or adamw.", DefaultValueFactory = _ => TrainingJobSpec.Defaults.Optimizer };
    public Option<float?> LearningRate { get; } = new("--lr") { Description = "Learning rate (default 0.05 for sgd, 0.001 for adam/adamw)." };
    public Option<float?> Momentum { get; } = new("--momentum") { Description = "SGD momentum (default 0.9)." };
    public Option<bool> Nesterov { get; } = new("--nesterov") { Description = "Nesterov momentum (SGD)." };
    public Option<float> WeightDecay { get; } = new("--weight-decay") { Description = "Weight decay (PyTorch semantics; decoupled for adamw)." };
    public Option<string> Schedule { get; } = new("--lr-schedule") { Description = "constant, step:STEPS:GAMMA or cosine[:MIN_FACTOR[:WARMUP]].", DefaultValueFactory = _ => TrainingJobSpec.Defaults.LearningRateSchedule };
    public Option<float> ClipNorm { get; } = new("--clip-norm") { Description = "Clip the gradient's global L2 norm to this value (0 = off)." };
    public Option<float> ClipValue { get; } = new("--clip-value") { Description = "Clamp every gradient element to [-X, X] (0 = off)." };
    public Option<ulong> Seed { get; } = new("--seed") { Description = "Seed of initialization, shuffling and dropout.", DefaultValueFactory = _ => TrainingJobSpec.Defaults.Seed };
    public Option<long> MaxSteps { get; } = new("--max-steps") { Description = "Stop after this global step (0 = all epochs)." };
    public Option<int> VirtualShards { get; } = new("--virtual-shards") { Description = "Virtual shards per batch (power of two).", DefaultValueFactory = _ => TrainingJobSpec.Defaults.VirtualShards };
    public Option<bool> SkipNonFinite { get; } = new("--skip-nonfinite-steps") { Description = "Skip a step whose gradient holds NaN/Inf instead of failing." };

    public IEnumerable<Option> All => [Model, ModelFile, Data, DataDir, Epochs, BatchSize, Optimizer, LearningRate, Momentum, Nesterov,
        WeightDecay, Schedule, ClipNorm, ClipValue, Seed, MaxSteps, VirtualShards, SkipNonFinite];

    public DataSplit LoadData(ParseResult parse)
        => DatasetCatalog.Load(parse.GetValue(Data)!, parse.GetValue(DataDir)?.FullName);

    /// <summary>
    /// The job these flags describe, on top of <paramref name="baseSpec"/> (a YAML job file; default: the defaults):
    /// a flag overrides the base only when given on the command line. Not validated here.
    /// </summary>
    public TrainingJobSpec ReadSpec(ParseResult parse, TrainingJobSpec? baseSpec = null)
    {
        var spec = baseSpec ?? TrainingJobSpec.Defaults;
        bool Given(Option option) => parse.GetResult(option) is { Implicit: false };
        var modelName = parse.GetValue(Model);
        var modelFile = parse.GetValue(ModelFile);
        if (modelName is not null && modelFile is not null) throw new UsageException("give either --model or --model-file, not both.");
        if (modelFile is not null)
            spec = spec with { Model = null, ModelYaml = modelFile.Exists ? File.ReadAllText(modelFile.FullName) : throw new UsageException($"model file '{modelFile.FullName}' does not exist.") };
        if (modelName is not null) spec = spec with { Model = modelName, ModelYaml = null };
        if (Given(Data)) spec = spec with { Data = parse.GetValue(Data)! };
        if (Given(DataDir)) spec = spec with { DataDir = parse.GetValue(DataDir)!.FullName };
        if (Given(Epochs)) spec = spec with { Epochs = parse.GetValue(Epochs) };
        if (Given(BatchSize)) spec = spec with { BatchSize = parse.GetValue(BatchSize) };
        if (Given(Optimizer)) spec = spec with { Optimizer = parse.GetValue(Optimizer)! };
        if (Given(LearningRate)) spec = spec with { LearningRate = parse.GetValue(LearningRate) };
        if (Given(Momentum)) spec = spec with { Momentum = parse.GetValue(Momentum) };
        if (Given(Nesterov)) spec = spec with { Nesterov = parse.GetValue(Nesterov) };
        if (Given(WeightDecay)) spec = spec with { WeightDecay = parse.GetValue(WeightDecay) };
        if (Given(Schedule)) spec = spec with { LearningRateSchedule = parse.GetValue(Schedule)! };
        if (Given(ClipNorm)) spec = spec with { ClipNorm = parse.GetValue(ClipNorm) };
        if (Given(ClipValue)) spec = spec with { ClipValue = parse.GetValue(ClipValue) };
        if (Given(Seed)) spec = spec with { Seed = parse.GetValue(Seed) };
        if (Given(MaxSteps)) spec = spec with { MaxSteps = parse.GetValue(MaxSteps) };
        if (Given(VirtualShards)) spec = spec with { VirtualShards = parse.GetValue(VirtualShards) };
        if (Given(SkipNonFinite)) spec = spec with { SkipNonFiniteSteps = parse.GetValue(SkipNonFinite) };
        return spec;
    }

    /// <summary>The trainer's options for the flags on <paramref name="data"/> (what `train` runs; `node` reuses it).</summary>
    public TrainingOptions BuildOptions(ParseResult parse, DataSplit data) => ReadSpec(parse).ToTrainingOptions(data);
}

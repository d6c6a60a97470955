using Google.Protobuf;
using ParallelNet.Jobs.V1;

namespace ParallelNet.Jobs.Tests;

/// <summary>One spec for flags, YAML job files and the wire: same defaults, lossless round trips, errors naming the field.</summary>
public sealed class TrainingJobSpecTests
{
    private static readonly TrainingJobSpec Custom = new()
    {
        Name = "it's a test", ModelYaml = "input: [2]\nloss: cross_entropy\nlayers:\n  - type: linear\n    out: 3\n", Data = "spirals", DataDir = "/data",
        Optimizer = "sgd", LearningRate = 0.1f, Momentum = 0.5f, Nesterov = true, WeightDecay = 1e-4f, LearningRateSchedule = "step:10:0.5",
        ClipNorm = 1.5f, ClipValue = 2f, Epochs = 7, MaxSteps = 30, BatchSize = 16, Workers = 3, VirtualShards = 8, Seed = 0,
        CheckpointEvery = 5, SkipNonFiniteSteps = true,
    };

    [Fact]
    public void An_empty_proto_spec_means_the_defaults()
    {
        Assert.Equal(TrainingJobSpec.Defaults, TrainingJobSpec.FromProto(new JobSpec()));
        Assert.Equal(TrainingJobSpec.Defaults, TrainingJobSpec.ParseYaml(""));
    }

    [Fact]
    public void Proto_and_yaml_round_trips_are_lossless()
    {
        Custom.Validate();
        Assert.Equal(Custom, TrainingJobSpec.FromProto(JobSpec.Parser.ParseFrom(Custom.ToProto().ToByteArray())));
        Assert.Equal(Custom, TrainingJobSpec.ParseYaml(Custom.ToYaml()));
        Assert.Equal(TrainingJobSpec.Defaults, TrainingJobSpec.ParseYaml(TrainingJobSpec.Defaults.ToYaml()));
    }

    [Theory]
    [InlineData("epochs: many", "epochs")]
    [InlineData("batch_sise: 3", "batch_sise")]
    [InlineData("nesterov: maybe", "nesterov")]
    [InlineData("seed: -1", "seed")]
    [InlineData("model: [a, b]", "model")]
    [InlineData("model_file: /nonexistent/model.yaml", "model_file")]
    [InlineData("- just\n- a list", "yaml")]
    public void Malformed_job_files_name_the_key(string yaml, string field)
    {
        var error = Assert.Throws<JobSpecException>(() => TrainingJobSpec.ParseYaml(yaml));
        Assert.Equal(field, error.Field);
    }

    [Theory]
    [InlineData("model: mlp\nmodel_yaml: 'input: [2]'", "model")]
    [InlineData("learning_rate: -1", "learning_rate")]
    [InlineData("optimizer: adam\nnesterov: true", "nesterov")]
    [InlineData("clip_norm: -1", "clip_norm")]
    [InlineData("batch_size: 2\nvirtual_shards: 4", "virtual_shards")]
    [InlineData("checkpoint_every: -5", "checkpoint_every")]
    [InlineData("max_steps: -5", "max_steps")]
    [InlineData("data: ''", "data")]
    public void Validation_names_the_field(string yaml, string field)
    {
        var error = Assert.Throws<JobSpecException>(() => TrainingJobSpec.ParseYaml(yaml).Validate());
        Assert.Equal(field, error.Field);
        Assert.StartsWith($"invalid job spec: {field}: ", error.Message);
    }

    [Fact]
    public void The_example_job_files_are_valid_and_build_their_models()
    {
        var folder = Path.Combine(RepositoryRoot(), "cluster-config", "jobs");
        var files = Directory.GetFiles(folder, "*.yaml");
        Assert.True(files.Length >= 3, $"expected example job files in {folder}");
        var probe = new Data.Dataset("probe", new Tensors.Shape(1, 28, 28), new float[784 * 2], [1, 0], 1, 10);
        var mnistShaped = new Data.DataSplit(probe, probe, Data.Normalization.Identity);
        foreach (var file in files)
        {
            var spec = TrainingJobSpec.ParseYaml(File.ReadAllText(file), folder);
            spec.Validate();
            Assert.False(string.IsNullOrEmpty(spec.Name), file);
            if (spec.Data == "mnist") Assert.NotNull(spec.ToTrainingOptions(mnistShaped).Model);
        }
    }

    /// <summary>The folder holding ParallelNet.sln, above the build output or (for out-of-tree builds) this source file.</summary>
    internal static string RepositoryRoot([System.Runtime.CompilerServices.CallerFilePath] string sourceFile = "")
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(sourceFile) ?? "" })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "ParallelNet.sln"))) return dir.FullName;
        throw new InvalidOperationException("Cannot find ParallelNet.sln above " + AppContext.BaseDirectory);
    }
}

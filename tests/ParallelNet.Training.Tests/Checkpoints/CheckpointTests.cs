using ParallelNet.Training.Checkpoints;
using static ParallelNet.Training.Tests.TrainingFixtures;

namespace ParallelNet.Training.Tests.Checkpoints;

public sealed class CheckpointTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("pn-ckpt-").FullName;
    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string TrainedCheckpoint(int epochs = 1, long every = 0)
    {
        var data = Spirals();
        string path = Path.Combine(_directory, "model.safetensors");
        Trainer(Options(data, epochs), data).Run(checkpoints: new CheckpointPolicy(path, every));
        return path;
    }

    [Fact]
    public void RoundTripRestoresWeightsOptimizerStateAndPosition()
    {
        var data = Spirals();
        string path = Path.Combine(_directory, "model.safetensors");
        var options = Options(data, epochs: 2);
        var original = Trainer(options, data);
        var summary = original.Run(checkpoints: new CheckpointPolicy(path));

        var loaded = TrainingCheckpoint.Load(path);
        Assert.Equal(summary.WeightsSha256, loaded.WeightsSha256);
        Assert.Equal(summary.Steps, loaded.Progress.Step);
        Assert.Equal(OptionsCodec.Serialize(options), OptionsCodec.Serialize(loaded.Options));
        Assert.Equal(options.Model.ToYaml(), loaded.ModelSpec.ToYaml());

        var restored = Trainer(loaded.Options, data);
        restored.Restore(loaded);
        Assert.Equal(summary.WeightsSha256, WeightsHash.Sha256(restored.Model));
        Assert.Equal(original.Optimizer.StepsTaken, restored.Optimizer.StepsTaken);
        Assert.Empty(Directory.GetFiles(_directory, "*.tmp"));
    }

    [Fact]
    public void FlippedDataBitIsRefusedWithAChecksumError()
    {
        string path = TrainedCheckpoint();
        var bytes = File.ReadAllBytes(path);
        bytes[^5] ^= 0x10;
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<CheckpointException>(() => TrainingCheckpoint.Load(path));
        Assert.Contains("checksum", error.Message);
    }

    [Fact]
    public void FlippedHeaderDigitIsRefused()
    {
        string path = TrainedCheckpoint();
        var bytes = File.ReadAllBytes(path);
        int at = System.Text.Encoding.ASCII.GetString(bytes, 8, 4000).IndexOf("\"step\":\"", StringComparison.Ordinal) + 8 + 8;
        bytes[at] = (byte)(bytes[at] == (byte)'1' ? '2' : '1');
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<CheckpointException>(() => TrainingCheckpoint.Load(path));
        Assert.Contains("checksum", error.Message);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(100)]
    [InlineData(-100)]
    public void TruncatedFileIsRefused(int keep)
    {
        string path = TrainedCheckpoint();
        var bytes = File.ReadAllBytes(path);
        int length = keep > 0 ? keep : bytes.Length + keep;
        File.WriteAllBytes(path, bytes[..length]);
        var error = Assert.Throws<CheckpointException>(() => TrainingCheckpoint.Load(path));
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void CheckpointOfAnotherModelIsRefused()
    {
        string path = TrainedCheckpoint();
        var data = Spirals();
        var other = Trainer(Options(data, batchNorm: false), data);
        var error = Assert.Throws<CheckpointException>(() => TrainingCheckpoint.Load(path).ApplyTo(other.Model, other.Optimizer));
        Assert.Contains("wrong model", error.Message);
    }

    [Fact]
    public void HeaderIsPlainSafetensorsThatPythonToolsCanParse()
    {
        string path = TrainedCheckpoint();
        var (tensors, metadata) = SafeTensors.Read(path);
        Assert.Equal("0.weight", tensors[0].Name);
        Assert.Equal([32, 2], tensors[0].Shape);
        Assert.Equal(TrainingCheckpoint.Format, metadata["format"]);
        var bytes = File.ReadAllBytes(path);
        ulong headerLength = BitConverter.ToUInt64(bytes, 0);
        Assert.Equal(0UL, (8 + headerLength) % 8);
        Assert.Equal((byte)'{', bytes[8]);
    }
}

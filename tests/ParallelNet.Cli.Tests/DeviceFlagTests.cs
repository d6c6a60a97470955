using ParallelNet.Tensors.OpenCL;
using ParallelNet.Testing;

namespace ParallelNet.Cli.Tests;

/// <summary><c>--device</c> and <c>--worker-devices</c> on train and eval: choices, one-line errors, the auto fallback, real runs on OpenCL.</summary>
public sealed class DeviceFlagTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("pn-device-").FullName;
    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>ocl-icd reads its drivers from this directory: an empty one looks like a machine without OpenCL.</summary>
    private Dictionary<string, string> NoOpenCl => new() { ["OCL_ICD_VENDORS"] = Directory.CreateDirectory(Path.Combine(_directory, "no-icd")).FullName };

    private static readonly TimeSpan Quick = TimeSpan.FromMinutes(2);

    [Theory]
    [InlineData("parallelnet: error: --device must be cpu, opencl, opencl:N or auto, got 'tpu'.", "train", "--device", "tpu")]
    [InlineData("parallelnet: error: --device must be cpu, opencl, opencl:N or auto, got 'gpu'.", "eval", "--checkpoint", "missing.safetensors", "--device", "gpu")]
    [InlineData("parallelnet: error: give either --device (every worker) or --worker-devices (one per worker), not both.", "train", "--device", "cpu", "--worker-devices", "cpu,cpu")]
    [InlineData("parallelnet: error: --worker-devices lists 2 device(s) but the job has 3 worker(s); give one per worker.", "train", "--worker-devices", "cpu,cpu", "--workers", "3")]
    [InlineData("parallelnet: error: --worker-devices needs one device per worker, comma-separated (e.g. cpu,opencl), got 'cpu,,cpu'.", "train", "--worker-devices", "cpu,,cpu")]
    public void BadDeviceChoices_AreOneUsageLine(string expected, params string[] args)
    {
        var run = CliRunner.Run(Quick, [.. args, "--data", "spirals"]);
        Assert.Equal(2, run.ExitCode);
        Assert.Equal(expected, run.Error.Trim());
    }

    [Fact]
    public void ExplicitOpenCl_WithoutAPlatform_IsOneClearLine_AndDoesNotFallBack()
    {
        var run = CliRunner.Run(Quick, NoOpenCl, "train", "--data", "spirals", "--device", "opencl", "--max-steps", "1", "--json");
        Assert.Equal(1, run.ExitCode);
        Assert.Equal("parallelnet: error: No OpenCL platform found: install an OpenCL driver (Debian: apt-get install pocl-opencl-icd for the CPU, or your GPU vendor's driver).", run.Error.Trim());
        Assert.Empty(run.JsonLines);
    }

    [Fact]
    public void Auto_WithoutAGpu_FallsBackToTheCpuAndSaysSo()
    {
        var run = CliRunner.Run(Quick, NoOpenCl, "train", "--data", "spirals", "--device", "auto", "--max-steps", "2", "--json");
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.StartsWith("--device auto: ", run.Error.Trim());
        Assert.EndsWith("using the CPU backend.", run.Error.Trim());
        Assert.Equal(2, run.Summary.GetProperty("steps").GetInt64());
    }

    [SkippableOpenClFact]
    public void OpenClAndMixedJobs_LearnMnist_LikeTheCpuOnlyJob_AndEvalRunsOnOpenCl()
    {
        string checkpoint = Path.Combine(_directory, "opencl.safetensors");
        string[] job = ["train", "--model", "mlp", "--data", "mnist", "--data-dir", TestData.RequireMnistDirectory(), "--max-steps", "50", "--seed", "4", "--json"];
        var cpu = CliRunner.Run([.. job, "--workers", "2"]);
        var openCl = CliRunner.Run([.. job, "--device", "opencl", "--workers", "1", "--checkpoint", checkpoint]);
        var mixed = CliRunner.Run([.. job, "--worker-devices", "cpu,opencl"]);
        Assert.True(cpu.ExitCode == 0, cpu.Error);
        double cpuLoss = cpu.Summary.GetProperty("test_loss").GetDouble();
        foreach (var (name, run) in new[] { ("opencl", openCl), ("cpu+opencl", mixed) })
        {
            Assert.True(run.ExitCode == 0, run.Error);
            // Real learning (chance is 10 %), and the same learning as on the CPU within the backends' tolerance.
            Assert.True(run.Summary.GetProperty("test_accuracy").GetDouble() >= 0.85, $"{name}: {run.Output}");
            double loss = run.Summary.GetProperty("test_loss").GetDouble();
            Assert.True(Math.Abs(cpuLoss - loss) <= 1e-4 * (1 + cpuLoss), $"test loss {loss:R} ({name}) against {cpuLoss:R} (cpu only)");
        }

        var eval = CliRunner.Run("eval", "--checkpoint", checkpoint, "--data", "mnist", "--data-dir", TestData.RequireMnistDirectory(), "--device", "opencl", "--json");
        Assert.True(eval.ExitCode == 0, eval.Error);
        double trained = openCl.Summary.GetProperty("test_accuracy").GetDouble(), evaluated = eval.JsonLines.Single().GetProperty("test_accuracy").GetDouble();
        Assert.True(Math.Abs(trained - evaluated) <= 0.001, $"eval on OpenCL: {evaluated:P2}, the job's own evaluation: {trained:P2}");
    }

    /// <summary>The foundation's targets with every worker on OpenCL (POCL here: minutes for the mlp, tens of minutes for the cnn).</summary>
    [SkippableOpenClTheory]
    [Trait("Category", "Slow")]
    [InlineData("mlp", 3, 0.975)]
    [InlineData("cnn", 2, 0.986)]
    public void OpenCl_ReachesTheFoundationsAccuracyTargets(string model, int epochs, double target)
    {
        var run = CliRunner.Run(TimeSpan.FromMinutes(90), "train", "--model", model, "--data", "mnist", "--data-dir", TestData.RequireMnistDirectory(), "--epochs", $"{epochs}",
            "--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9", "--batch-size", "128", "--device", "opencl", "--workers", "1", "--json");
        Assert.True(run.ExitCode == 0, run.Error);
        double accuracy = run.Summary.GetProperty("test_accuracy").GetDouble();
        Assert.True(accuracy >= target, $"{model} on OpenCL: test accuracy {accuracy:P2} after {epochs} epochs, expected >= {target:P1}");
    }
}

/// <summary>A fact skipped, with the reason, on a machine without an OpenCL device (CI installs POCL, so there it runs).</summary>
public sealed class SkippableOpenClFactAttribute : FactAttribute
{
    public SkippableOpenClFactAttribute()
    {
        if (ComputeDevices.List().OpenClUnavailableReason is { } reason) Skip = reason;
    }
}

/// <summary>A theory skipped, with the reason, on a machine without an OpenCL device.</summary>
public sealed class SkippableOpenClTheoryAttribute : TheoryAttribute
{
    public SkippableOpenClTheoryAttribute()
    {
        if (ComputeDevices.List().OpenClUnavailableReason is { } reason) Skip = reason;
    }
}

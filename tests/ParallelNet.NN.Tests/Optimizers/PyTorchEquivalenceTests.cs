using System.Runtime.CompilerServices;
using System.Text.Json;
using ParallelNet.NN.Optimizers;
using ParallelNet.Tensors;
using static ParallelNet.NN.Tests.Optimizers.OptimizerTestKit;

namespace ParallelNet.NN.Tests.Optimizers;

/// <summary>
/// Five-step trajectories against PyTorch 1.13 (optimizer_fixtures.json, written by
/// make_optimizer_fixtures.py). Tolerance |ours − torch| ≤ 1e-6 + 1e-5·|torch| on parameters and
/// state. Measured: SGD cases ≤ 4e-7 absolute (fused multiply-adds that torch rounds twice); Adam
/// ≤ 3e-7 absolute but up to 1.3e-5 relative on exp_avg_sq, because our betas are float32 and
/// 1 − 0.999f is 0.00099999 where Python's is 0.001.
/// </summary>
public sealed class PyTorchEquivalenceTests
{
    private const double AbsoluteTolerance = 1e-6;
    private const double RelativeTolerance = 1e-5;
    // The fixtures hold mean gradients; the optimizer takes sums. A power of two keeps sum / batch exact.
    private const int BatchSize = 4;

    private static readonly Lazy<JsonDocument> Fixture = new(LoadFixture);

    public static TheoryData<string> CaseNames() => new(FixtureCaseNames());

    private static IEnumerable<string> FixtureCaseNames() =>
        Fixture.Value.RootElement.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("name").GetString()!);

    [Fact]
    public void Fixture_covers_every_optimizer_schedule_and_clipping_mode()
    {
        var names = FixtureCaseNames().ToHashSet();
        string[] required = ["sgd_plain", "sgd_momentum", "sgd_nesterov", "sgd_momentum_weight_decay", "adam", "adamw", "steplr", "cosine", "clip_norm", "clip_value"];
        Assert.Subset(names, required.ToHashSet());
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Trajectory_matches_pytorch(string caseName)
    {
        var root = Fixture.Value.RootElement;
        var fixtureCase = root.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("name").GetString() == caseName);
        long totalSteps = root.GetProperty("total_steps").GetInt64();
        var layout = FixtureLayout(root);
        var compute = NewCompute();
        var options = ReadOptions(fixtureCase.GetProperty("options"));
        var optimizer = new Optimizer(options, layout, compute);

        var parameters = Upload(compute, Concatenate(root.GetProperty("parameters").EnumerateArray().Select(p => Floats(p.GetProperty("values")))));
        var gradients = compute.Allocate(new Shape(layout.TotalSize));
        var gradientSteps = root.GetProperty("gradients").EnumerateArray().ToArray();
        var expectedSteps = fixtureCase.GetProperty("steps").EnumerateArray().ToArray();
        Assert.Equal(totalSteps, expectedSteps.Length);

        for (int step = 0; step < expectedSteps.Length; step++)
        {
            var expected = expectedSteps[step];
            var gradientSum = Concatenate(gradientSteps[step].EnumerateArray().Select(Floats)).Select(g => g * BatchSize).ToArray();
            compute.Upload(gradientSum, gradients);

            double torchLearningRate = expected.GetProperty("lr").GetDouble();
            Assert.True(Math.Abs(optimizer.NextLearningRate(totalSteps) - torchLearningRate) <= 3e-7 * torchLearningRate,
                $"{caseName} step {step}: lr {optimizer.NextLearningRate(totalSteps)} vs torch {torchLearningRate}");

            var outcome = optimizer.Step(parameters, gradients, BatchSize, totalSteps);
            Assert.True(outcome.Applied, outcome.Rejection);
            if (expected.TryGetProperty("norm", out var norm))
                AssertClose(norm.GetDouble(), outcome.GradientNorm, $"{caseName} step {step} gradient norm");

            var expectedParameters = Concatenate(expected.GetProperty("parameters").EnumerateArray().Select(Floats));
            AssertAllClose(expectedParameters, Download(compute, parameters), $"{caseName} step {step} parameters");

            var state = DownloadState(compute, optimizer);
            var expectedState = expected.GetProperty("state").EnumerateObject().ToDictionary(p => p.Name, p => Floats(p.Value));
            Assert.Equal(expectedState.Keys.Order(), state.Keys.Order());
            foreach (var (name, values) in expectedState) AssertAllClose(values, state[name], $"{caseName} step {step} {name}");
        }
        Assert.Equal(expectedSteps.Length, optimizer.StepsTaken);
    }

    private static ParameterLayout FixtureLayout(JsonElement root)
    {
        var entries = root.GetProperty("parameters").EnumerateArray().Select(p =>
        {
            string name = p.GetProperty("name").GetString()!;
            int[] shape = p.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
            return (name, shape, name.EndsWith(".bias", StringComparison.Ordinal) ? ParameterRole.Bias : ParameterRole.Weight);
        });
        return Layout(entries.ToArray());
    }

    private static OptimizerOptions ReadOptions(JsonElement o)
    {
        LearningRateSchedule? schedule = null;
        if (o.TryGetProperty("schedule", out var s))
        {
            schedule = s.GetProperty("type").GetString() switch
            {
                "step" => new LearningRateSchedule.StepDecay(s.GetProperty("step_size").GetInt64(), (float)s.GetProperty("gamma").GetDouble()),
                "cosine" => new LearningRateSchedule.Cosine((float)s.GetProperty("min_factor").GetDouble()),
                var other => throw new InvalidDataException($"Unknown schedule type '{other}' in the fixture."),
            };
        }
        return new OptimizerOptions(
            Enum.Parse<OptimizerKind>(o.GetProperty("kind").GetString()!),
            (float)o.GetProperty("lr").GetDouble(),
            Momentum: (float)o.GetProperty("momentum").GetDouble(),
            Nesterov: o.GetProperty("nesterov").GetBoolean(),
            WeightDecay: (float)o.GetProperty("weight_decay").GetDouble(),
            Beta1: (float)o.GetProperty("beta1").GetDouble(),
            Beta2: (float)o.GetProperty("beta2").GetDouble(),
            Epsilon: (float)o.GetProperty("eps").GetDouble(),
            ClipGlobalNorm: (float)o.GetProperty("clip_norm").GetDouble(),
            ClipValue: (float)o.GetProperty("clip_value").GetDouble(),
            Schedule: schedule);
    }

    private static float[] Floats(JsonElement array) => array.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();

    private static float[] Concatenate(IEnumerable<float[]> parts) => parts.SelectMany(p => p).ToArray();

    private static void AssertClose(double expected, double actual, string what)
    {
        Assert.True(Math.Abs(actual - expected) <= AbsoluteTolerance + RelativeTolerance * Math.Abs(expected),
            $"{what}: {actual} vs torch {expected}");
    }

    private static void AssertAllClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) AssertClose(expected[i], actual[i], $"{what}[{i}]");
    }

    private static JsonDocument LoadFixture() => LoadFixtureNextTo();

    // The fixture sits next to this source file; reading it from there keeps the project file untouched.
    private static JsonDocument LoadFixtureNextTo([CallerFilePath] string sourcePath = "")
    {
        string path = Path.Combine(Path.GetDirectoryName(sourcePath)!, "optimizer_fixtures.json");
        if (!File.Exists(path))
            throw new FileNotFoundException($"PyTorch optimizer fixture not found at {path}; regenerate it with /usr/bin/python3 make_optimizer_fixtures.py in that folder.", path);
        return JsonDocument.Parse(File.ReadAllText(path));
    }
}

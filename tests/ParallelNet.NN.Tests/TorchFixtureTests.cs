using System.Text.Json;
using ParallelNet.Tensors;

namespace ParallelNet.NN.Tests;

/// <summary>
/// Forward and backward of every layer type and loss against PyTorch 1.13, on the fixtures written by
/// Fixtures/make_fixtures.py. Tolerance: 1e-5 absolute + 1e-4 relative for outputs and gradients (float32
/// sums in a different order than PyTorch's), 1e-4 relative for the summed loss.
/// </summary>
public sealed class TorchFixtureTests
{
    private const double Absolute = 1e-5, Relative = 1e-4;

    private static string[] FixtureNames() =>
        Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Fixtures"), "*.json")
            .Select(p => Path.GetFileNameWithoutExtension(p)).Order(StringComparer.Ordinal).ToArray();

    public static TheoryData<string> Fixtures() => new(FixtureNames());

    [Fact]
    public void EveryLayerTypeAndLossHasAFixture()
    {
        var types = new HashSet<string>();
        var losses = new HashSet<string>();
        foreach (var name in FixtureNames())
        {
            var spec = ModelSpec.Parse(Load(name).GetProperty("spec").GetString()!);
            foreach (var layer in spec.Layers) types.Add(layer.Type);
            losses.Add(Losses.LossNames.ToName(spec.Loss));
        }
        Assert.Equal(Internal.LayerFactory.LayerTypes.Order(), types.Order());
        Assert.Equal(Losses.LossNames.All.Order(), losses.Order());
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void MatchesPyTorch(string name)
    {
        var f = Load(name);
        var spec = ModelSpec.Parse(f.GetProperty("spec").GetString()!);
        int count = f.GetProperty("count").GetInt32();
        bool training = f.GetProperty("training").GetBoolean();
        var compute = TestSupport.Cpu();
        var model = Model.Create(spec, compute, count + 3);

        Assert.Equal(f.GetProperty("names").EnumerateArray().Select(e => e.GetString()!), model.Layout.Parameters.Select(p => p.Name));
        var parameters = Floats(f, "parameters");
        Assert.Equal(parameters.Length, model.Layout.TotalSize);
        if (parameters.Length > 0) compute.Upload(parameters, model.Parameters);

        var result = model.RunShard(Floats(f, "input"), Floats(f, "target"), count, training, new StepContext(1, 0, 0, 0), backward: true, inputGradient: true);

        double expectedLoss = f.GetProperty("loss").GetDouble();
        Assert.True(Math.Abs(result.LossSum - expectedLoss) <= 1e-4 * Math.Abs(expectedLoss) + 1e-5, $"loss: expected {expectedLoss}, got {result.LossSum}");
        TestSupport.AssertClose(Floats(f, "output"), TestSupport.Download(compute, model.LastOutputs!), Absolute, Relative, name + " output");
        TestSupport.AssertClose(Floats(f, "input_grad"), TestSupport.Download(compute, model.InputGradient!), Absolute, Relative, name + " input gradient");
        if (parameters.Length == 0) return;

        var gradients = TestSupport.Download(compute, model.Gradients);
        var expectedGradients = Floats(f, "parameter_grad");
        var after = Floats(f, "parameters_after_forward");
        foreach (var p in model.Layout.Parameters)
        {
            var range = new Range(p.Offset, p.Offset + p.Length);
            if (p.IsTrainable)
            {
                TestSupport.AssertClose(expectedGradients[range], gradients[range], Absolute, Relative, $"{name} gradient of {p.Name}");
            }
            else if (training)
            {
                // The statistics travel through the gradient slot as count × value (see ParameterRole.RunningMean);
                // the optimizer stage's update must then reproduce PyTorch's state after the forward pass.
                var updated = new float[p.Length];
                for (int i = 0; i < p.Length; i++)
                {
                    float average = gradients[p.Offset + i] / count;
                    updated[i] = p.Role == ParameterRole.BatchCount
                        ? parameters[p.Offset + i] + average
                        : (1 - p.StatisticMomentum) * parameters[p.Offset + i] + p.StatisticMomentum * average;
                }
                TestSupport.AssertClose(after[range], updated, Absolute, Relative, $"{name} statistic {p.Name}");
            }
            else
            {
                Assert.All(gradients[range], g => Assert.Equal(0f, g));
            }
        }
    }

    private static JsonElement Load(string name) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", name + ".json"))).RootElement;

    private static float[] Floats(JsonElement f, string key) => f.GetProperty(key).EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();
}

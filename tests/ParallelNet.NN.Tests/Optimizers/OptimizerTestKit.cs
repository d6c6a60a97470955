using ParallelNet.NN.Optimizers;
using ParallelNet.Tensors;
using ParallelNet.Tensors.Cpu;

namespace ParallelNet.NN.Tests.Optimizers;

/// <summary>Shared helpers: the backend under test, host round trips and small layouts.</summary>
internal static class OptimizerTestKit
{
    public static ICompute NewCompute() => new CpuCompute();

    public static Tensor Upload(ICompute compute, float[] values)
    {
        var tensor = compute.Allocate(new Shape(values.Length));
        compute.Upload(values, tensor);
        return tensor;
    }

    public static float[] Download(ICompute compute, Tensor tensor)
    {
        var values = new float[tensor.Length];
        compute.Download(tensor, values);
        return values;
    }

    public static Dictionary<string, float[]> DownloadState(ICompute compute, Optimizer optimizer) =>
        optimizer.State.ToDictionary(s => s.Name, s => Download(compute, s.State), StringComparer.Ordinal);

    /// <summary>Builds a dense layout from (name, shape, role) in order.</summary>
    public static ParameterLayout Layout(params (string Name, int[] Shape, ParameterRole Role)[] parameters)
    {
        var infos = new List<ParameterInfo>();
        int offset = 0;
        foreach (var (name, shape, role) in parameters)
        {
            float momentum = role is ParameterRole.RunningMean or ParameterRole.RunningVariance ? 0.1f : 0f;
            var info = new ParameterInfo(name, new Shape(shape), offset, role, momentum);
            infos.Add(info);
            offset += info.Length;
        }
        return new ParameterLayout(infos);
    }

    /// <summary>A Linear(4→3), Linear(3→2) model, the shapes the PyTorch fixtures use.</summary>
    public static ParameterLayout TwoLinearLayers() => Layout(
        ("0.weight", [3, 4], ParameterRole.Weight),
        ("0.bias", [3], ParameterRole.Bias),
        ("2.weight", [2, 3], ParameterRole.Weight));

    public static float[] RandomValues(Random random, int count, double scale = 1.0)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)((random.NextDouble() * 2 - 1) * scale);
        return values;
    }
}

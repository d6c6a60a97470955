using ParallelNet.Tensors.Random;

namespace ParallelNet.NN.Initializers;

/// <summary>What a parameter's initial values are drawn from.</summary>
internal enum InitDistribution
{
    /// <summary>Every element equals <see cref="ParameterInit.Scale"/>.</summary>
    Constant,
    /// <summary>Uniform in ±<see cref="ParameterInit.Scale"/>.</summary>
    Uniform,
    /// <summary>Normal with mean 0 and standard deviation <see cref="ParameterInit.Scale"/>.</summary>
    Normal,
}

/// <summary>The initial distribution of one parameter, resolved from a scheme and the layer's fans.</summary>
internal readonly record struct ParameterInit(InitDistribution Distribution, float Scale)
{
    public static ParameterInit Constant(float value) => new(InitDistribution.Constant, value);

    public static ParameterInit ForWeight(InitScheme scheme, int fanIn, int fanOut) => scheme switch
    {
        InitScheme.PyTorch => new(InitDistribution.Uniform, 1f / MathF.Sqrt(fanIn)),
        InitScheme.Xavier => new(InitDistribution.Uniform, MathF.Sqrt(6f / (fanIn + fanOut))),
        InitScheme.He => new(InitDistribution.Normal, MathF.Sqrt(2f / fanIn)),
        InitScheme.HeUniform => new(InitDistribution.Uniform, MathF.Sqrt(6f / fanIn)),
        InitScheme.SmallNormal => new(InitDistribution.Normal, 0.01f),
        InitScheme.Zeros => Constant(0f),
        _ => throw new ArgumentOutOfRangeException(nameof(scheme), scheme, "Unknown initialization scheme."),
    };

    /// <summary>Only PyTorch's default draws the bias at random (so results compare with PyTorch); the textbook schemes start it at zero.</summary>
    public static ParameterInit ForBias(InitScheme scheme, int fanIn) =>
        scheme == InitScheme.PyTorch ? new(InitDistribution.Uniform, 1f / MathF.Sqrt(fanIn)) : Constant(0f);

    /// <summary>Fills <paramref name="destination"/>; element i uses stream element i, so values are a pure function of (seed, parameter index, i).</summary>
    public void Fill(Span<float> destination, RandomStream stream)
    {
        switch (Distribution)
        {
            case InitDistribution.Constant:
                destination.Fill(Scale);
                break;
            case InitDistribution.Uniform:
                stream.FillUniform(0, destination);
                foreach (ref var v in destination) v = (2f * v - 1f) * Scale;
                break;
            case InitDistribution.Normal:
                for (int i = 0; i < destination.Length; i++) destination[i] = stream.Normal((ulong)i) * Scale;
                break;
        }
    }
}

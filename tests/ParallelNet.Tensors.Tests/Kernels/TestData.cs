namespace ParallelNet.Tensors.Tests.Kernels;

/// <summary>Seeded random inputs and tolerance assertions shared by the kernel tests.</summary>
internal static class TestData
{
    public static float[] Uniform(int length, int seed, float low = -1f, float high = 1f)
    {
        var random = new System.Random(seed);
        var data = new float[length];
        for (int i = 0; i < length; i++) data[i] = low + (high - low) * random.NextSingle();
        return data;
    }

    public static float[] Labels(int rows, int classes, int seed)
    {
        var random = new System.Random(seed);
        var labels = new float[rows];
        for (int i = 0; i < rows; i++) labels[i] = random.Next(classes);
        return labels;
    }

    public static Tensor Tensor(float[] data, params int[] dims) => ParallelNet.Tensors.Tensor.FromArray(data, new Shape(dims));

    /// <summary>|actual - expected| &lt;= absolute + relative * |expected| for every element, with the first failure reported.</summary>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float absolute, float relative = 0f, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            float tolerance = absolute + relative * Math.Abs(expected[i]);
            if (!(Math.Abs(expected[i] - actual[i]) <= tolerance))
                Assert.Fail($"{what} element {i}: expected {expected[i]:R}, got {actual[i]:R} (tolerance {tolerance}).");
        }
    }

    public static void AssertBitwiseEqual(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what} element {i}: {expected[i]:R} vs {actual[i]:R} differ in bits.");
        }
    }
}

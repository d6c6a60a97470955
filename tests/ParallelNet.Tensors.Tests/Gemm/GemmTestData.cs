namespace ParallelNet.Tensors.Tests.Gemm;

internal static class GemmTestData
{
    public static float[] Random(int length, int seed)
    {
        var random = new System.Random(seed);
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }

    /// <summary>
    /// Checks ours against the naive twin element by element. Two float summations of k terms in a
    /// different grouping differ by about eps*sqrt(k) times the sum of the terms' magnitudes, so the
    /// allowed error is 1e-5 * sqrt(k) * (|alpha| * sum_p |a_ip * b_pj| + |beta * c_ij|), plus 1e-6 absolute.
    /// </summary>
    public static void AssertClose(bool transposeA, bool transposeB, int m, int n, int k, float alpha,
        float[] a, float[] b, float beta, float[] cBefore, float[] expected, float[] actual, string context)
    {
        double scale = 1e-5 * Math.Sqrt(Math.Max(k, 1));
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double magnitude = 0;
                for (int p = 0; p < k; p++)
                {
                    float av = transposeA ? a[p * m + i] : a[i * k + p];
                    float bv = transposeB ? b[j * k + p] : b[p * n + j];
                    magnitude += Math.Abs((double)av * bv);
                }
                double tolerance = scale * (Math.Abs(alpha) * magnitude + (beta == 0f ? 0 : Math.Abs(beta * cBefore[i * n + j]))) + 1e-6;
                double error = Math.Abs((double)actual[i * n + j] - expected[i * n + j]);
                if (!(error <= tolerance))
                    Assert.Fail($"{context}: c[{i},{j}] = {actual[i * n + j]}, naive {expected[i * n + j]}, error {error:g3} > tolerance {tolerance:g3}.");
            }
        }
    }
}

using System.Runtime.CompilerServices;

namespace ParallelNet.Tensors.Cpu.Gemm.Internal;

/// <summary>Portable 4x4 register tile for hardware without 256-bit vectors.</summary>
internal static unsafe class MicroKernelScalar
{
    public const int Rows = 4;
    public const int Columns = 4;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, nint ldb, float* c, nint ldc, float alpha, float beta)
    {
        float* acc = stackalloc float[Rows * Columns];
        for (int i = 0; i < Rows * Columns; i++) acc[i] = 0f;
        for (int p = 0; p < kc; p++)
        {
            for (int i = 0; i < Rows; i++)
            {
                float av = a[i];
                for (int j = 0; j < Columns; j++)
                    acc[i * Columns + j] = MathF.FusedMultiplyAdd(av, b[j], acc[i * Columns + j]);
            }
            a += Rows;
            b += ldb;
        }
        for (int i = 0; i < Rows; i++)
        {
            float* row = c + i * ldc;
            for (int j = 0; j < Columns; j++)
                row[j] = beta == 0f ? acc[i * Columns + j] * alpha : acc[i * Columns + j] * alpha + row[j] * beta;
        }
    }
}

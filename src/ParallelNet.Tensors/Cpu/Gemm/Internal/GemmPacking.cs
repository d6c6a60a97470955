using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ParallelNet.Tensors.Cpu.Gemm.Internal;

/// <summary>
/// Copies a block of op(A) or op(B) into the panel layout the micro-kernels stream through:
/// A as row panels of `panelRows` rows stored k-step by k-step, B as column panels of `panelColumns`
/// columns stored the same way. Rows or columns past the edge of the matrix are zero, so the kernels
/// always run on full register tiles and the padding never touches a real output element.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>Packs op(A)[row0 .. row0+rows, p0 .. p0+kc] where op(A) is [m, k].</summary>
    public static void PackA(bool transposeA, float* a, int m, int k, int row0, int rows, int p0, int kc, int panelRows, float* destination, float* scratch)
    {
        int fullPanelRows = rows / panelRows * panelRows;
        if (transposeA && panelRows == 8 && Vector256.IsHardwareAccelerated)
        {
            // Row by row of the stored [k, m] matrix across all full panels, as in PackB.
            for (int p = 0; p < kc; p++)
            {
                float* row = a + (nint)(p0 + p) * m + row0;
                for (int panelStart = 0; panelStart < fullPanelRows; panelStart += 8)
                    Vector256.Store(Vector256.Load(row + panelStart), destination + (nint)panelStart * kc + (nint)p * 8);
            }
            if (fullPanelRows < rows)
                CopyContiguousSteps(a + (nint)p0 * m + row0 + fullPanelRows, m, rows - fullPanelRows, kc, panelRows,
                    destination + (nint)fullPanelRows * kc);
            return;
        }
        for (int panelStart = 0; panelStart < rows; panelStart += panelRows)
        {
            int validRows = Math.Min(panelRows, rows - panelStart);
            float* panel = destination + (nint)panelStart * kc;
            if (transposeA)
            {
                // A is stored [k, m]: each k step of the panel is contiguous in memory.
                float* source = a + (nint)p0 * m + row0 + panelStart;
                CopyContiguousSteps(source, m, validRows, kc, panelRows, panel);
            }
            else
            {
                float* source = a + (nint)(row0 + panelStart) * k + p0;
                TransposeIntoPanel(source, k, validRows, kc, panelRows, panel, scratch);
            }
        }
    }

    /// <summary>Packs op(B)[p0 .. p0+kc, col0 .. col0+cols] where op(B) is [k, n].</summary>
    public static void PackB(bool transposeB, float* b, int n, int k, int col0, int cols, int p0, int kc, int panelColumns, float* destination, float* scratch)
    {
        int fullPanelColumns = cols / panelColumns * panelColumns;
        bool wideLanes = panelColumns % 16 == 0 && Vector512.IsHardwareAccelerated;
        if (!transposeB && (wideLanes || (panelColumns % 8 == 0 && Vector256.IsHardwareAccelerated)))
        {
            // Row by row across all full panels: B rows are read front to back (one page at a time for
            // the prefetcher and the TLB) instead of a column strip of kc rows, kc pages, per panel, whose
            // lines all fall into the same few cache sets when n is a power of two.
            for (int p = 0; p < kc; p++)
            {
                float* row = b + (nint)(p0 + p) * n + col0;
                for (int panelStart = 0; panelStart < fullPanelColumns; panelStart += panelColumns)
                {
                    float* to = destination + (nint)panelStart * kc + (nint)p * panelColumns;
                    if (wideLanes)
                    {
                        for (int lane = 0; lane < panelColumns; lane += 16)
                            Vector512.Store(Vector512.Load(row + panelStart + lane), to + lane);
                    }
                    else
                    {
                        for (int lane = 0; lane < panelColumns; lane += 8)
                            Vector256.Store(Vector256.Load(row + panelStart + lane), to + lane);
                    }
                }
            }
            if (fullPanelColumns < cols)
                CopyContiguousSteps(b + (nint)p0 * n + col0 + fullPanelColumns, n, cols - fullPanelColumns, kc, panelColumns,
                    destination + (nint)fullPanelColumns * kc);
            return;
        }
        for (int panelStart = 0; panelStart < cols; panelStart += panelColumns)
        {
            int validColumns = Math.Min(panelColumns, cols - panelStart);
            float* panel = destination + (nint)panelStart * kc;
            if (transposeB)
            {
                // B is stored [n, k]: each column of op(B) is a contiguous row in memory.
                float* source = b + (nint)(col0 + panelStart) * k + p0;
                TransposeIntoPanel(source, k, validColumns, kc, panelColumns, panel, scratch);
            }
            else
            {
                float* source = b + (nint)p0 * n + col0 + panelStart;
                CopyContiguousSteps(source, n, validColumns, kc, panelColumns, panel);
            }
        }
    }

    // source[step * stride + lane] -> panel[step * width + lane], lanes past `valid` zero.
    private static void CopyContiguousSteps(float* source, nint stride, int valid, int kc, int width, float* panel)
    {
        if (width < 8 && Avx.IsSupported)
        {
            // Panels of the AVX2 kernels' 6 or 4 rows: one masked load and one store per step instead of two span calls.
            // The masked load never touches memory past the valid lanes. A full store spills lanes past the width into
            // the next step, which its own store then overwrites; only the last step needs the masked store, which
            // AMD cores run many times slower.
            Vector256<float> load = LaneMask(valid), store = LaneMask(width);
            for (int p = 0; p < kc - 1; p++)
                Avx.Store(panel + p * width, Avx.MaskLoad(source + p * stride, load));
            if (kc > 0) Avx.MaskStore(panel + (kc - 1) * width, store, Avx.MaskLoad(source + (nint)(kc - 1) * stride, load));
            return;
        }
        if (valid == width && width % 16 == 0 && Vector512.IsHardwareAccelerated)
        {
            // A call to a copy routine per 64-byte row costs more than the copy itself.
            for (int p = 0; p < kc; p++)
                for (int lane = 0; lane < width; lane += 16)
                    Vector512.Store(Vector512.Load(source + p * stride + lane), panel + p * width + lane);
            return;
        }
        if (valid == width && width % 8 == 0 && Vector256.IsHardwareAccelerated)
        {
            for (int p = 0; p < kc; p++)
                for (int lane = 0; lane < width; lane += 8)
                    Vector256.Store(Vector256.Load(source + p * stride + lane), panel + p * width + lane);
            return;
        }
        for (int p = 0; p < kc; p++)
        {
            new ReadOnlySpan<float>(source + p * stride, valid).CopyTo(new Span<float>(panel + p * width, valid));
            new Span<float>(panel + p * width + valid, width - valid).Clear();
        }
    }

    // source[lane * stride + step] -> panel[step * width + lane], lanes past `valid` zero.
    // `scratch` (8 x kc floats) pads a last group of fewer than eight lanes so it can take the fast path too.
    private static void TransposeIntoPanel(float* source, nint stride, int valid, int kc, int width, float* panel, float* scratch)
    {
        if (Avx.IsSupported && width < 8)
        {
            TransposeIntoNarrowPanel(source, stride, valid, kc, width, panel, scratch);
            return;
        }
        if (!Avx.IsSupported || width % 8 != 0)
        {
            for (int lane = 0; lane < width; lane++)
            {
                float* from = source + lane * stride;
                for (int p = 0; p < kc; p++) panel[(nint)p * width + lane] = lane < valid ? from[p] : 0f;
            }
            return;
        }
        int fullGroups = valid / 8;
        for (int group = 0; group < fullGroups; group++)
            TransposeGroup(source + group * 8 * stride, stride, kc, panel + group * 8, width);
        int packedLanes = fullGroups * 8;
        if (packedLanes < valid)
        {
            int rest = valid - packedLanes;
            for (int lane = 0; lane < 8; lane++)
            {
                var row = new Span<float>(scratch + lane * kc, kc);
                if (lane < rest) new ReadOnlySpan<float>(source + (packedLanes + lane) * stride, kc).CopyTo(row);
                else row.Clear();
            }
            TransposeGroup(scratch, kc, kc, panel + packedLanes, width);
            packedLanes += 8;
        }
        if (packedLanes < width)
            for (int p = 0; p < kc; p++) new Span<float>(panel + (nint)p * width + packedLanes, width - packedLanes).Clear();
    }

    // A panel of fewer than eight lanes: eight rows go through the 8x8 transpose and each step keeps only the panel's
    // lanes (nothing is written past the panel's last step). Lanes in [valid, width) read a zeroed scratch row; lanes past
    // the width read any valid row, since they are never stored.
    private static void TransposeIntoNarrowPanel(float* source, nint stride, int valid, int kc, int width, float* panel, float* scratch)
    {
        if (valid < width) new Span<float>(scratch, kc).Clear();
        float** rows = stackalloc float*[8];
        for (int lane = 0; lane < 8; lane++)
            rows[lane] = lane < valid ? source + lane * stride : lane < width ? scratch : source;
        Vector256<float> mask = LaneMask(width);
        int fullSteps = kc & ~7;
        for (int p = 0; p < fullSteps; p += 8)
        {
            Transpose8x8(Avx.LoadVector256(rows[0] + p), Avx.LoadVector256(rows[1] + p), Avx.LoadVector256(rows[2] + p), Avx.LoadVector256(rows[3] + p),
                Avx.LoadVector256(rows[4] + p), Avx.LoadVector256(rows[5] + p), Avx.LoadVector256(rows[6] + p), Avx.LoadVector256(rows[7] + p),
                out var o0, out var o1, out var o2, out var o3, out var o4, out var o5, out var o6, out var o7);
            // Full stores in ascending step order: the lanes past the width spill into the next step, whose own store
            // (or the scalar tail below) overwrites them. Only a spill past the panel's last step needs the masked store,
            // which AMD cores run many times slower.
            StoreSteps(panel + (nint)p * width, width, o0, o1, o2, o3, o4, o5, o6, o7, lastMask: p + 8 < kc ? null : mask);
        }
        for (int p = fullSteps; p < kc; p++)
            for (int lane = 0; lane < width; lane++) panel[(nint)p * width + lane] = rows[lane][p];
    }

    // All bits set in lanes below `count`.
    private static Vector256<float> LaneMask(int count) =>
        Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(count)).AsSingle();

    // Eight source rows of kc floats -> eight lanes of the panel.
    private static void TransposeGroup(float* source, nint stride, int kc, float* panel, int width)
    {
        int fullSteps = kc & ~7;
        for (int p = 0; p < fullSteps; p += 8)
            Transpose8x8(source + p, stride, panel + (nint)p * width, width);
        for (int p = fullSteps; p < kc; p++)
            for (int lane = 0; lane < 8; lane++)
                panel[(nint)p * width + lane] = source[lane * stride + p];
    }

    private static void Transpose8x8(float* source, nint sourceStride, float* destination, nint destinationStride)
    {
        Transpose8x8(Avx.LoadVector256(source), Avx.LoadVector256(source + sourceStride), Avx.LoadVector256(source + 2 * sourceStride),
            Avx.LoadVector256(source + 3 * sourceStride), Avx.LoadVector256(source + 4 * sourceStride), Avx.LoadVector256(source + 5 * sourceStride),
            Avx.LoadVector256(source + 6 * sourceStride), Avx.LoadVector256(source + 7 * sourceStride),
            out var o0, out var o1, out var o2, out var o3, out var o4, out var o5, out var o6, out var o7);
        StoreSteps(destination, destinationStride, o0, o1, o2, o3, o4, o5, o6, o7, lastMask: null);
    }

    // Eight vectors at `stride` floats apart, the last one through `lastMask` when given.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreSteps(float* destination, nint stride, Vector256<float> o0, Vector256<float> o1, Vector256<float> o2,
        Vector256<float> o3, Vector256<float> o4, Vector256<float> o5, Vector256<float> o6, Vector256<float> o7, Vector256<float>? lastMask)
    {
        Avx.Store(destination, o0);
        Avx.Store(destination + stride, o1);
        Avx.Store(destination + 2 * stride, o2);
        Avx.Store(destination + 3 * stride, o3);
        Avx.Store(destination + 4 * stride, o4);
        Avx.Store(destination + 5 * stride, o5);
        Avx.Store(destination + 6 * stride, o6);
        if (lastMask is { } mask) Avx.MaskStore(destination + 7 * stride, mask, o7);
        else Avx.Store(destination + 7 * stride, o7);
    }

    // Eight rows of eight floats become eight columns: the classic unpack/shuffle/permute sequence.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
        Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7,
        out Vector256<float> o0, out Vector256<float> o1, out Vector256<float> o2, out Vector256<float> o3,
        out Vector256<float> o4, out Vector256<float> o5, out Vector256<float> o6, out Vector256<float> o7)
    {
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> s0 = Avx.Shuffle(t0, t2, 0x44), s1 = Avx.Shuffle(t0, t2, 0xEE);
        Vector256<float> s2 = Avx.Shuffle(t1, t3, 0x44), s3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> s4 = Avx.Shuffle(t4, t6, 0x44), s5 = Avx.Shuffle(t4, t6, 0xEE);
        Vector256<float> s6 = Avx.Shuffle(t5, t7, 0x44), s7 = Avx.Shuffle(t5, t7, 0xEE);
        o0 = Avx.Permute2x128(s0, s4, 0x20);
        o1 = Avx.Permute2x128(s1, s5, 0x20);
        o2 = Avx.Permute2x128(s2, s6, 0x20);
        o3 = Avx.Permute2x128(s3, s7, 0x20);
        o4 = Avx.Permute2x128(s0, s4, 0x31);
        o5 = Avx.Permute2x128(s1, s5, 0x31);
        o6 = Avx.Permute2x128(s2, s6, 0x31);
        o7 = Avx.Permute2x128(s3, s7, 0x31);
    }
}

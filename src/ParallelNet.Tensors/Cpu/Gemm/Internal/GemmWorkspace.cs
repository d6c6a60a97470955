namespace ParallelNet.Tensors.Cpu.Gemm.Internal;

/// <summary>
/// One thread's packing buffers, allocated once per thread on the pinned object heap and reused by
/// every later product on that thread (no allocation per call). Sized for the largest tile and block
/// the plan can produce, 64-byte aligned for the vector loads.
/// </summary>
internal sealed unsafe class GemmWorkspace
{
    private const int AlignmentFloats = 16;
    // The largest register tile of any kernel: edge tiles are computed here and copied out.
    private const int MaxRegisterTile = MicroKernel.MaxTileFloats;
    private const int ScratchFloats = 8 * GemmPlan.MaxBlockDepth;

    [ThreadStatic] private static GemmWorkspace? current;

    private readonly float[] storage;
    private float[]? treeStorage;

    public float* PackedA { get; }
    public float* PackedB { get; }
    public float* EdgeTile { get; }
    public float* PackingScratch { get; }

    private GemmWorkspace()
    {
        int aFloats = GemmPlan.MaxPackedRows * GemmPlan.MaxBlockDepth;
        int bFloats = GemmPlan.MaxTileColumns * GemmPlan.MaxBlockDepth;
        storage = GC.AllocateUninitializedArray<float>(aFloats + bFloats + MaxRegisterTile + ScratchFloats + 4 * AlignmentFloats, pinned: true);
        fixed (float* raw = storage)
        {
            // Pinned, so the aligned addresses stay valid for the array's lifetime.
            float* aligned = (float*)(((nint)raw + 63) & ~(nint)63);
            PackedA = aligned;
            PackedB = aligned + aFloats;
            EdgeTile = PackedB + bFloats;
            PackingScratch = EdgeTile + MaxRegisterTile;
        }
    }

    public static GemmWorkspace ForCurrentThread() => current ??= new GemmWorkspace();

    /// <summary>At least <paramref name="floats"/> floats for the scratch tiles of a block tree product, kept for later calls.</summary>
    public float* TreeScratch(int floats)
    {
        if (treeStorage is null || treeStorage.Length < floats) treeStorage = GC.AllocateUninitializedArray<float>(floats, pinned: true);
        fixed (float* pointer = treeStorage) return pointer;
    }
}

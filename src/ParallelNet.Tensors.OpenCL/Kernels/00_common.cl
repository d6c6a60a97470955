// Shared by every kernel file (the files are concatenated in name order into one program).
// Contraction off: a*b+c must round twice, as on the CPU backend, so shared formulas give the same bits.
#pragma OPENCL FP_CONTRACT OFF

// Reductions accumulate in double like the CPU backend where the device has it, in float otherwise.
#ifdef cl_khr_fp64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double acc_t;
#else
typedef float acc_t;
#endif

// A tensor argument is its buffer plus an element offset (views share buffers; sub-buffers would need aligned offsets).
#define TENSOR(name) __global float* name##_data, const int name##_offset
#define AT(name) (name##_data + name##_offset)

// Philox-4x32-10, word for word ParallelNet.Tensors.Random.Philox.Block.
inline uint4 philox4x32_10(ulong key, ulong counter_hi, ulong counter_lo)
{
    uint c0 = (uint)counter_lo, c1 = (uint)(counter_lo >> 32), c2 = (uint)counter_hi, c3 = (uint)(counter_hi >> 32);
    uint k0 = (uint)key, k1 = (uint)(key >> 32);
    for (int round = 0; round < 10; round++)
    {
        uint hi0 = mul_hi(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
        uint hi1 = mul_hi(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
        uint n0 = hi1 ^ c1 ^ k0;
        uint n2 = hi0 ^ c3 ^ k1;
        c1 = lo1;
        c3 = lo0;
        c0 = n0;
        c2 = n2;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    return (uint4)(c0, c1, c2, c3);
}

// RandomStream.Uniform: 24 random bits scaled to [0, 1), exactly representable.
inline float philox_uniform(ulong seed, ulong stream, ulong index)
{
    uint4 block = philox4x32_10(seed, stream, index >> 2);
    uint lane = (uint)(index & 3);
    uint bits = lane == 0 ? block.x : lane == 1 ? block.y : lane == 2 ? block.z : block.w;
    return (float)(bits >> 8) * (1.0f / 16777216.0f);
}

// Launches round the range up to whole work-groups of a fixed size (one compiled variant per kernel, and
// full groups on GPUs); the items past the end return at once.
#define WORK_ITEMS const int work_items
#define GUARD(index) int index = get_global_id(0); if (index >= work_items) return;

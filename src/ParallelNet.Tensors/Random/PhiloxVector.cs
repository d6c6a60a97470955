using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ParallelNet.Tensors.Random;

/// <summary>
/// Four Philox-4x32-10 blocks at once in AVX2 lanes (one block per 64-bit lane, its 32-bit words in the
/// low halves, so vpmuludq gives each word's full 64-bit product). The integer arithmetic is the scalar
/// <see cref="Philox.Block"/>'s, so the numbers are bitwise the same; dropout masks drew most of their
/// time from the scalar rounds.
/// </summary>
internal static class PhiloxVector
{
    public static bool IsSupported => Avx2.IsSupported;

    /// <summary>Uniforms of blocks firstBlock .. firstBlock+3 (16 elements, block-major) into destination[0..16).</summary>
    public static void FourBlocksUniform(ulong key, ulong counterHi, ulong firstBlock, Span<float> destination)
    {
        var low = Vector256.Create(0xFFFF_FFFFUL);
        var blocks = Vector256.Create(firstBlock) + Vector256.Create(0UL, 1UL, 2UL, 3UL);
        var c0 = blocks & low;
        var c1 = blocks >>> 32;
        var c2 = Vector256.Create(counterHi & 0xFFFF_FFFFUL);
        var c3 = Vector256.Create(counterHi >> 32);
        uint k0 = (uint)key, k1 = (uint)(key >> 32);
        var m0 = Vector256.Create(0xD2511F53UL).AsUInt32();
        var m1 = Vector256.Create(0xCD9E8D57UL).AsUInt32();
        for (int round = 0; round < 10; round++)
        {
            var p0 = Avx2.Multiply(c0.AsUInt32(), m0);
            var p1 = Avx2.Multiply(c2.AsUInt32(), m1);
            var n0 = (p1 >>> 32) ^ c1 ^ Vector256.Create((ulong)k0);
            var n2 = (p0 >>> 32) ^ c3 ^ Vector256.Create((ulong)k1);
            c1 = p1 & low;
            c3 = p0 & low;
            c0 = n0;
            c2 = n2;
            k0 += 0x9E3779B9;
            k1 += 0xBB67AE85;
        }
        var scale = Vector256.Create(1.0f / 16777216.0f);
        // [x0 of blocks 0-3, x1 of blocks 0-3] and [x2 ..., x3 ...] as uniforms.
        var words01 = Vector256.ConvertToSingle((Vector256.Narrow(c0, c1) >>> 8).AsInt32()) * scale;
        var words23 = Vector256.ConvertToSingle((Vector256.Narrow(c2, c3) >>> 8).AsInt32()) * scale;
        // Transpose to block-major order: [x0 x1 x2 x3] of block 0, then block 1, ...
        var interleave = Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7);
        var pairs01 = Vector256.Shuffle(words01, interleave).AsDouble();
        var pairs23 = Vector256.Shuffle(words23, interleave).AsDouble();
        var evens = Avx.UnpackLow(pairs01, pairs23);
        var odds = Avx.UnpackHigh(pairs01, pairs23);
        Avx.Permute2x128(evens, odds, 0x20).AsSingle().CopyTo(destination);
        Avx.Permute2x128(evens, odds, 0x31).AsSingle().CopyTo(destination[8..]);
    }
}

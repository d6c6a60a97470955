namespace ParallelNet.Tensors.Random;

/// <summary>
/// Philox-4x32-10 (Salmon et al., SC'11): a counter-based generator. Four 32-bit outputs are a pure
/// function of a 64-bit key and a 128-bit counter, so any random number can be recomputed anywhere
/// (another worker, another backend) from its coordinates alone.
/// </summary>
public static class Philox
{
    private const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57;
    private const uint W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    /// <summary>One block: 4 words from (key, counter).</summary>
    public static (uint X0, uint X1, uint X2, uint X3) Block(ulong key, ulong counterHi, ulong counterLo)
    {
        uint c0 = (uint)counterLo, c1 = (uint)(counterLo >> 32), c2 = (uint)counterHi, c3 = (uint)(counterHi >> 32);
        uint k0 = (uint)key, k1 = (uint)(key >> 32);
        for (int round = 0; round < 10; round++)
        {
            ulong p0 = (ulong)M0 * c0;
            ulong p1 = (ulong)M1 * c2;
            uint n0 = (uint)(p1 >> 32) ^ c1 ^ k0;
            uint n2 = (uint)(p0 >> 32) ^ c3 ^ k1;
            c1 = (uint)p1;
            c3 = (uint)p0;
            c0 = n0;
            c2 = n2;
            k0 += W0;
            k1 += W1;
        }
        return (c0, c1, c2, c3);
    }
}

/// <summary>Why random numbers are drawn; part of every stream's identity so purposes never share numbers.</summary>
public enum RandomPurpose : uint
{
    Init = 1,
    Shuffle = 2,
    Dropout = 3,
    RRelu = 4,
    Synthetic = 5,
    NegativeSampling = 6,
    Subsampling = 7,
}

/// <summary>
/// An addressable stream of random numbers: element i of the stream is a pure function of
/// (seed, stream id, i). The stream id mixes the purpose with up to four coordinates
/// (for dropout: epoch, step, layer; the sample index goes into the element index).
/// </summary>
public readonly record struct RandomStream(ulong Seed, ulong StreamId)
{
    public static RandomStream For(ulong seed, RandomPurpose purpose, long a = 0, long b = 0, long c = 0, long d = 0)
    {
        ulong h = Mix((ulong)purpose);
        h = Mix(h ^ (ulong)a);
        h = Mix(h ^ (ulong)b);
        h = Mix(h ^ (ulong)c);
        h = Mix(h ^ (ulong)d);
        return new RandomStream(seed, h);
    }

    /// <summary>32 random bits at element <paramref name="index"/>.</summary>
    public uint Bits(ulong index)
    {
        var (x0, x1, x2, x3) = Philox.Block(Seed, StreamId, index >> 2);
        return (index & 3) switch { 0 => x0, 1 => x1, 2 => x2, _ => x3 };
    }

    /// <summary>Uniform in [0, 1) with 24 bits of resolution, exactly representable as float.</summary>
    public float Uniform(ulong index) => (Bits(index) >> 8) * (1.0f / 16777216.0f);

    /// <summary>Fills <paramref name="destination"/> with uniforms at elements start, start+1, ...</summary>
    public void FillUniform(ulong start, Span<float> destination)
    {
        int i = 0;
        ulong index = start;
        while (i < destination.Length)
        {
            // Whole groups of four blocks go through the vector rounds once the index is block-aligned.
            if ((index & 3) == 0 && destination.Length - i >= 16 && PhiloxVector.IsSupported)
            {
                PhiloxVector.FourBlocksUniform(Seed, StreamId, index >> 2, destination.Slice(i, 16));
                i += 16;
                index += 16;
                continue;
            }
            var (x0, x1, x2, x3) = Philox.Block(Seed, StreamId, index >> 2);
            for (int lane = (int)(index & 3); lane < 4 && i < destination.Length; lane++, i++, index++)
            {
                uint bits = lane switch { 0 => x0, 1 => x1, 2 => x2, _ => x3 };
                destination[i] = (bits >> 8) * (1.0f / 16777216.0f);
            }
        }
    }

    /// <summary>Standard normal at element pair <paramref name="index"/> (Box-Muller on elements 2i, 2i+1).</summary>
    public float Normal(ulong index)
    {
        double u1 = ((Bits(2 * index) >> 8) + 1.0) / 16777217.0;
        double u2 = (Bits(2 * index + 1) >> 8) / 16777216.0;
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
    }

    /// <summary>Uniform integer in [0, n) by rejection (no modulo bias).</summary>
    public uint NextBelow(ulong index, uint n, out ulong nextIndex)
    {
        if (n == 0) throw new ArgumentOutOfRangeException(nameof(n), "n must be positive.");
        uint limit = uint.MaxValue - uint.MaxValue % n;
        while (true)
        {
            uint bits = Bits(index++);
            if (bits < limit)
            {
                nextIndex = index;
                return bits % n;
            }
        }
    }

    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

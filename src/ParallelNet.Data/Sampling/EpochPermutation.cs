using ParallelNet.Tensors.Random;

namespace ParallelNet.Data;

/// <summary>
/// The order in which an epoch visits the samples: a pure function of (seed, epoch, count), so
/// every node that knows the job's seed computes the same order without being told.
/// </summary>
public static class EpochPermutation
{
    /// <summary>A permutation of 0..count-1: Fisher-Yates driven by the shuffle stream (seed, epoch).</summary>
    public static int[] Create(ulong seed, int epoch, int count)
    {
        if (epoch < 0) throw new ArgumentOutOfRangeException(nameof(epoch), $"The epoch must be non-negative, got {epoch}.");
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), $"The sample count must be non-negative, got {count}.");
        return Shuffle(RandomStream.For(seed, RandomPurpose.Shuffle, epoch), count);
    }

    /// <summary>Fisher-Yates over 0..count-1, drawing from consecutive elements of <paramref name="stream"/>.</summary>
    public static int[] Shuffle(RandomStream stream, int count)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), $"The count must be non-negative, got {count}.");
        var order = new int[count];
        for (int i = 0; i < count; i++) order[i] = i;
        ulong next = 0;
        for (int i = count - 1; i > 0; i--)
        {
            int j = (int)stream.NextBelow(next, (uint)(i + 1), out next);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }
}

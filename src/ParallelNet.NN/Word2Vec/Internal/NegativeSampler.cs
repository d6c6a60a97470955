namespace ParallelNet.NN.Word2Vec.Internal;

/// <summary>Draws noise words with probability proportional to count^0.75, by binary search over the cumulative weights.</summary>
internal sealed class NegativeSampler
{
    private readonly double[] _cumulative;

    public NegativeSampler(IReadOnlyList<long> counts)
    {
        _cumulative = new double[counts.Count];
        double total = 0;
        for (int i = 0; i < counts.Count; i++)
        {
            total += Math.Pow(counts[i], 0.75);
            _cumulative[i] = total;
        }
        for (int i = 0; i < _cumulative.Length; i++) _cumulative[i] /= total;
    }

    /// <summary>The word whose cumulative interval holds <paramref name="uniform"/> in [0, 1).</summary>
    public int Sample(double uniform)
    {
        int index = Array.BinarySearch(_cumulative, uniform);
        index = index >= 0 ? index + 1 : ~index;
        return Math.Min(index, _cumulative.Length - 1);
    }
}

namespace ParallelNet.Training.Actors.Internal;

/// <summary>
/// The parameter server's published weight buffers: who still reads which version of which buffer, and which may be
/// reused. A buffer is reused only once it is no longer the current version and every subscriber it went to has
/// handed it back (in process); the current one is updated in place only while nobody holds it. A loan that is never
/// handed back (a lost worker) is forgotten a few versions later, and a buffer whose loans are forgotten is left to the
/// garbage collector: a reader of such an old version could only compute gradients of a step already applied, which
/// the server drops.
/// </summary>
internal sealed class WeightsLending
{
    private const int VersionsKept = 4;
    // Per buffer: readers per version lent. A reader hands back its oldest version first.
    private readonly Dictionary<float[], SortedDictionary<long, int>> _loans = new(ReferenceEqualityComparer.Instance);
    private readonly Stack<float[]> _free = new();

    public float[] Rent(int length)
    {
        while (_free.TryPop(out var buffer))
        {
            if (buffer.Length == length) return buffer;
        }
        return GC.AllocateUninitializedArray<float>(length);
    }

    /// <summary>True while some subscriber <paramref name="buffer"/> was sent to has not handed it back (and the loan is not forgotten).</summary>
    public bool IsLent(float[] buffer) => _loans.ContainsKey(buffer);

    /// <summary><paramref name="readers"/> more subscribers were sent <paramref name="buffer"/> as version <paramref name="version"/>.</summary>
    public void Lend(float[] buffer, long version, int readers)
    {
        if (readers <= 0) return;
        if (!_loans.TryGetValue(buffer, out var versions)) _loans[buffer] = versions = [];
        versions[version] = versions.GetValueOrDefault(version) + readers;
    }

    /// <summary>A subscriber handed <paramref name="buffer"/> back; <paramref name="current"/> is the buffer of the current version.</summary>
    public void Return(float[] buffer, float[] current)
    {
        if (!_loans.TryGetValue(buffer, out var versions)) return;
        var (oldest, readers) = versions.First();
        if (readers > 1) versions[oldest] = readers - 1;
        else versions.Remove(oldest);
        if (versions.Count > 0) return;
        _loans.Remove(buffer);
        if (!ReferenceEquals(buffer, current)) _free.Push(buffer);
    }

    /// <summary><paramref name="previous"/> is no longer the current version (now <paramref name="version"/>).</summary>
    public void Retire(float[] previous, long version)
    {
        if (previous.Length > 0 && !_loans.ContainsKey(previous)) _free.Push(previous);
        Forget(version);
    }

    /// <summary>Drops the loans of versions older than a few before <paramref name="version"/>.</summary>
    public void Forget(long version)
    {
        foreach (var (buffer, versions) in _loans.ToList())
        {
            foreach (long old in versions.Keys.Where(v => v < version - VersionsKept).ToList()) versions.Remove(old);
            if (versions.Count == 0) _loans.Remove(buffer);
        }
    }
}

namespace ParallelNet.Training.Actors.Internal;

/// <summary>
/// The parameter server's published weight buffers: who still reads which, and which may be reused. A buffer
/// is reused only once it is no longer the current version and every subscriber it went to has handed it back
/// (in process). One that is never handed back (a lost or remote worker) is forgotten after a few versions and
/// left to the garbage collector, so nothing is overwritten while someone may read it.
/// </summary>
internal sealed class WeightsLending
{
    private const int VersionsKept = 4;
    private readonly Dictionary<float[], Loan> _loans = new(ReferenceEqualityComparer.Instance);
    private readonly Stack<float[]> _free = new();

    public float[] Rent(int length)
    {
        while (_free.TryPop(out var buffer))
        {
            if (buffer.Length == length) return buffer;
        }
        return GC.AllocateUninitializedArray<float>(length);
    }

    /// <summary><paramref name="readers"/> more subscribers were sent <paramref name="buffer"/> as version <paramref name="version"/>.</summary>
    public void Lend(float[] buffer, long version, int readers)
    {
        if (readers <= 0) return;
        if (!_loans.TryGetValue(buffer, out var loan)) _loans[buffer] = loan = new Loan();
        loan.Version = version;
        loan.Readers += readers;
    }

    /// <summary>A subscriber handed <paramref name="buffer"/> back; <paramref name="current"/> is the buffer of the current version.</summary>
    public void Return(float[] buffer, float[] current)
    {
        if (!_loans.TryGetValue(buffer, out var loan) || --loan.Readers > 0) return;
        _loans.Remove(buffer);
        if (!ReferenceEquals(buffer, current)) _free.Push(buffer);
    }

    /// <summary><paramref name="previous"/> is no longer the current version (now <paramref name="version"/>).</summary>
    public void Retire(float[] previous, long version)
    {
        if (previous.Length > 0 && !_loans.ContainsKey(previous)) _free.Push(previous);
        foreach (var (buffer, loan) in _loans.Where(l => l.Value.Version < version - VersionsKept).ToList())
            _loans.Remove(buffer);
    }

    private sealed class Loan
    {
        public long Version { get; set; }
        public int Readers { get; set; }
    }
}

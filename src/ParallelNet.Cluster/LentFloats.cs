namespace ParallelNet.Cluster;

/// <summary>
/// A received float32 tensor its recipient reads where it arrived (see <see cref="PayloadReader.ReadLentFloats"/>): a view
/// of the sending peer's shared-memory ring when the message came that way, else an array of the node's receive pool.
/// Only read it. <see cref="Release"/> hands it back (the ring's space to its sender, the array to the pool); until then
/// the sender cannot reuse that space. If the stream it came on ends first, the values move into a private copy, so
/// a view never changes under its reader.
/// </summary>
public sealed class LentFloats
{
    private Action? release;

    internal LentFloats(ReadOnlyMemory<float> values, Action release)
    {
        Values = values;
        this.release = release;
    }

    /// <summary>The values; valid until <see cref="Release"/>.</summary>
    public ReadOnlyMemory<float> Values { get; }

    /// <summary>Hands the values back; later calls do nothing.</summary>
    public void Release() => Interlocked.Exchange(ref release, null)?.Invoke();
}

using System.Buffers;

namespace ParallelNet.Cluster;

/// <summary>
/// A float32 tensor left in the bytes it arrived in (see <see cref="PayloadReader.ReadFloatsLater"/>): the recipient
/// decodes it once, on its own thread, straight into the memory where it needs the values, instead of the node
/// decoding it into an array the recipient then copies again. The received bytes stay referenced until collected.
/// </summary>
public sealed class ReceivedFloats
{
    private readonly ReadOnlySequence<byte> bytes;

    internal ReceivedFloats(ReadOnlySequence<byte> bytes)
    {
        this.bytes = bytes;
        Length = (int)(bytes.Length / sizeof(float));
    }

    /// <summary>The number of values.</summary>
    public int Length { get; }

    /// <summary>Writes the values into <paramref name="destination"/>, which must hold exactly <see cref="Length"/> of them.</summary>
    public void CopyTo(Span<float> destination) => TensorBytes.CopyTo(bytes, destination);
}

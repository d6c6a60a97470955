using ParallelNet.Cluster.Protocol;

namespace ParallelNet.Cluster.Internal.SharedMemory;

/// <summary>The rings a peer offered on one stream, used by that stream's reader loop alone and unmapped when the stream ends.</summary>
internal sealed class PeerRings(string? directory) : IDisposable
{
    /// <summary>A sender offers one ring per stream; a few more cover nothing legitimate and would only hold memory.</summary>
    private const int MaxRings = 2;

    private readonly Dictionary<ulong, PeerRing> rings = [];

    /// <summary>Maps the offered ring if this node has shared memory on and the file is there; the answer to send back.</summary>
    public SharedRingAnswer Answer(SharedRingOffer offer)
    {
        var answer = new SharedRingAnswer { Ring = offer.Ring };
        if (directory is null) answer.Reason = "shared memory is off on this node";
        else if (rings.ContainsKey(offer.Ring)) answer.Reason = "a ring of that id is in use on this stream";
        else if (rings.Count >= MaxRings) answer.Reason = $"this stream has {MaxRings} rings already";
        else if (PeerRing.TryOpen(directory, offer, out string reason) is { } ring)
        {
            rings.Add(ring.Id, ring);
            answer.Accepted = true;
        }
        else answer.Reason = reason;
        return answer;
    }

    public bool TryGet(ulong id, out PeerRing? ring) => rings.TryGetValue(id, out ring);

    public void Dispose()
    {
        foreach (PeerRing ring in rings.Values) ring.Dispose();
        rings.Clear();
    }
}

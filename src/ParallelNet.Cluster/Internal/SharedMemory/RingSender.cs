using Microsoft.Extensions.Logging;
using ParallelNet.Actors;
using ParallelNet.Cluster.Protocol;

namespace ParallelNet.Cluster.Internal.SharedMemory;

/// <summary>
/// The sending half of one peer's same-host path, driven by that peer's send loop: on each new stream it offers a
/// fresh ring, and once the peer accepted it, a large payload is copied into the ring and only its header goes on the
/// stream. A ring never outlives its stream: a message lost with a stream cannot leave a region the peer still reads
/// from, and a reconnected peer gets a ring whose space is all free.
/// </summary>
internal sealed class RingSender(string directory, long capacity, Address remote, ILogger logger) : IDisposable
{
    private const int None = 0, Offered = 1, Accepted = 2, Unusable = 3;

    private SharedRing? ring;
    private Link? link;
    private int state;

    /// <summary>The ring in use (tests).</summary>
    internal SharedRing? Ring => Volatile.Read(ref ring);

    /// <summary>
    /// Writes <paramref name="message"/> through the ring when it can; false when the caller must write it on the
    /// stream (no ring accepted yet, the ring full, or the payload over half the ring). On a new stream it first offers a ring.
    /// </summary>
    public async ValueTask<bool> TryWriteAsync(Link current, OutboundMessage message)
    {
        if (!ReferenceEquals(current, link)) Reset(current);
        switch (Volatile.Read(ref state))
        {
            case None:
                await OfferAsync(current).ConfigureAwait(false);
                return false;
            case Accepted:
                SharedRing accepted = ring!;
                if (message.PayloadLength > accepted.Capacity / 2 || !accepted.TryWrite(message.Payload!, message.PayloadLength, out ulong position)) return false;
                var start = new MessageStart(message.Start!) { Shared = new SharedPayload { Ring = accepted.Id, Position = position } };
                await current.WriteAsync(new ClusterFrame { Message = start }).ConfigureAwait(false);
                return true;
            default:
                return false;
        }
    }

    private async Task OfferAsync(Link current)
    {
        SharedRing created;
        try
        {
            created = SharedRing.Create(directory, capacity);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Volatile.Write(ref state, Unusable);
            logger.LogInformation("Large messages to {Remote} travel on the stream: no shared-memory ring of {Bytes} bytes could be made in {Directory}: {Problem}",
                remote, capacity, directory, e.Message);
            return;
        }
        Volatile.Write(ref ring, created);
        Volatile.Write(ref state, Offered);
        var offer = new SharedRingOffer { Ring = created.Id, Name = created.Name, Nonce = Google.Protobuf.ByteString.CopyFrom(created.Nonce), Capacity = (ulong)created.Capacity };
        await current.WriteAsync(new ClusterFrame { RingOffer = offer }).ConfigureAwait(false);
    }

    /// <summary>The peer's answer to an offer (any thread). The ring's file is unlinked either way: mapped, it needs no name.</summary>
    public void OnAnswer(SharedRingAnswer answer)
    {
        SharedRing? offered = Volatile.Read(ref ring);
        if (offered is null || offered.Id != answer.Ring) return; // an answer about a ring of an earlier stream
        offered.Unlink();
        if (Interlocked.CompareExchange(ref state, answer.Accepted ? Accepted : Unusable, Offered) != Offered) return;
        if (answer.Accepted)
            logger.LogInformation("Large messages to {Remote} go through shared memory ({Ring}, {Bytes} bytes).", remote, offered.Name, offered.Capacity);
        else
            logger.LogInformation("Large messages to {Remote} travel on the stream: it refused the shared-memory ring: {Reason}", remote, answer.Reason);
    }

    /// <summary>The peer decoded the ring's payloads up to a position (any thread).</summary>
    public void OnReleased(SharedRingReleased released)
    {
        SharedRing? current = Volatile.Read(ref ring);
        if (current is not null && current.Id == released.Ring) current.Release(released.Position);
    }

    private void Reset(Link current)
    {
        Volatile.Read(ref ring)?.Dispose();
        Volatile.Write(ref ring, null);
        Volatile.Write(ref state, None);
        link = current;
    }

    /// <summary>Only once the send loop has stopped.</summary>
    public void Dispose()
    {
        Volatile.Read(ref ring)?.Dispose();
        Volatile.Write(ref ring, null);
    }
}

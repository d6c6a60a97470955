using Microsoft.Extensions.Logging;
using ParallelNet.Actors;
using ParallelNet.Cluster.Protocol;

namespace ParallelNet.Cluster.Internal.SharedMemory;

/// <summary>
/// One peer's use of the node's ring, driven by that peer's send loop: on each new stream it offers the ring, and once
/// the peer has mapped it, a large payload is placed in the ring (copied, or shared with another peer's copy of the
/// same message) and only its header goes on the stream. What a stream's peer held when the stream ended comes back a
/// little later (<see cref="ReleaseDelay"/>), once the peer can no longer be decoding it.
/// </summary>
internal sealed class RingSender(RingSupply supply, Address remote, ILogger logger, TimeProvider time) : IDisposable
{
    /// <summary>How long regions held by an ended stream's peer stay untouched: its reader may still be decoding the last one.</summary>
    public static readonly TimeSpan ReleaseDelay = TimeSpan.FromSeconds(5);

    private const int None = 0, Offered = 1, Accepted = 2, Unusable = 3;

    private Link? link;
    private SharedRing? ring;
    private object holder = new();
    private int state;

    /// <summary>The ring offered on the current stream (tests).</summary>
    internal SharedRing? Ring => Volatile.Read(ref ring);

    /// <summary>The ring the current stream's peer has mapped; null until it has.</summary>
    internal SharedRing? AcceptedRing => Volatile.Read(ref state) == Accepted ? Volatile.Read(ref ring) : null;

    /// <summary>
    /// On the sending thread, as the message is queued: places its payload in the ring when the current stream's peer
    /// has accepted it. Placing before the send loop runs lets the next peers of a broadcast, queued right after, share
    /// this copy instead of waiting for their own, and spares the loop a copy on the way of the step.
    /// </summary>
    public void PlaceEarly(OutboundMessage message)
    {
        Link? current = Volatile.Read(ref link);
        if (Volatile.Read(ref state) != Accepted || Volatile.Read(ref ring) is not { } accepted || message.PayloadLength > accepted.Capacity / 2) return;
        message.Placement = accepted.TryPlace(Volatile.Read(ref holder), message.Payload!, message.PayloadLength, message.Key);
        message.PlacedFor = current;
    }

    /// <summary>
    /// Writes <paramref name="message"/> through the ring when it can; false when the caller must write it on the
    /// stream (no ring accepted yet, the ring full, or the payload over half the ring). On a new stream it first offers the ring.
    /// </summary>
    public async ValueTask<bool> TryWriteAsync(Link current, OutboundMessage message)
    {
        if (!ReferenceEquals(current, Volatile.Read(ref link))) Reset(current);
        switch (Volatile.Read(ref state))
        {
            case None:
                await OfferAsync(current).ConfigureAwait(false);
                return false;
            case Accepted:
                SharedRing accepted = ring!;
                SharedRing.Placement? placement = message.Placement;
                if (placement is null || !ReferenceEquals(message.PlacedFor, current))
                {
                    // Queued before the peer accepted, or for an earlier stream (Complete ends that hold): place it now.
                    if (message.PayloadLength > accepted.Capacity / 2) return false;
                    placement = accepted.TryPlace(holder, message.Payload!, message.PayloadLength, message.Key);
                    if (placement is null) return false;
                    message.Placement?.Release();
                    message.Placement = placement;
                }
                await placement.Filled.ConfigureAwait(false); // a region shared with another send may still be filling
                message.PlacementSent = true; // from here the peer's release, or this stream's end, ends the hold
                var start = new MessageStart(message.Start!) { Shared = new SharedPayload { Ring = accepted.Id, Position = placement.Position } };
                await current.WriteAsync(new ClusterFrame { Message = start }).ConfigureAwait(false);
                return true;
            default:
                return false;
        }
    }

    private async Task OfferAsync(Link current)
    {
        if (supply.Get() is not { } offered)
        {
            Volatile.Write(ref state, Unusable);
            return;
        }
        Volatile.Write(ref ring, offered);
        Volatile.Write(ref state, Offered);
        var offer = new SharedRingOffer { Ring = offered.Id, Name = offered.Name, Nonce = Google.Protobuf.ByteString.CopyFrom(offered.Nonce), Capacity = (ulong)offered.Capacity };
        await current.WriteAsync(new ClusterFrame { RingOffer = offer }).ConfigureAwait(false);
    }

    /// <summary>The peer's answer to an offer (any thread).</summary>
    public void OnAnswer(SharedRingAnswer answer)
    {
        SharedRing? offered = Volatile.Read(ref ring);
        if (offered is null || offered.Id != answer.Ring) return;
        if (Interlocked.CompareExchange(ref state, answer.Accepted ? Accepted : Unusable, Offered) != Offered) return;
        if (answer.Accepted)
            logger.LogInformation("Large messages to {Remote} go through shared memory ({Ring}, {Bytes} bytes).", remote, offered.Name, offered.Capacity);
        else
            logger.LogInformation("Large messages to {Remote} travel on the stream: it refused the shared-memory ring: {Reason}", remote, answer.Reason);
    }

    /// <summary>The peer decoded the payload at a position (any thread).</summary>
    public void OnReleased(SharedRingReleased released)
    {
        SharedRing? current = Volatile.Read(ref ring);
        if (current is not null && current.Id == released.Ring) current.Release(Volatile.Read(ref holder), released.Position);
    }

    private void Reset(Link current)
    {
        ReleaseLater(Volatile.Read(ref ring), holder);
        Volatile.Write(ref holder, new object());
        Volatile.Write(ref ring, null);
        Volatile.Write(ref state, None);
        Volatile.Write(ref link, current);
    }

    private void ReleaseLater(SharedRing? previous, object previousHolder)
    {
        if (previous is null) return;
        _ = Task.Delay(ReleaseDelay, time).ContinueWith(_ => previous.ReleaseAll(previousHolder), TaskScheduler.Default);
    }

    /// <summary>Only once the send loop has stopped: the peer is gone, so what it held comes back.</summary>
    public void Dispose() => ReleaseLater(Volatile.Read(ref ring), holder);
}

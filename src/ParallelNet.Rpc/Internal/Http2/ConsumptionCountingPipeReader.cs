using System.Buffers;
using System.IO.Pipelines;

namespace ParallelNet.Rpc.Internal.Http2;

/// <summary>A pipe reader that reports how many bytes its user consumed, so flow-control windows reopen as the call reads.</summary>
internal sealed class ConsumptionCountingPipeReader(PipeReader inner, Action<int> onConsumed) : PipeReader
{
    private ReadOnlySequence<byte> _lastRead;

    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        var result = await inner.ReadAsync(cancellationToken).ConfigureAwait(false);
        _lastRead = result.Buffer;
        return result;
    }

    public override bool TryRead(out ReadResult result)
    {
        if (!inner.TryRead(out result)) return false;
        _lastRead = result.Buffer;
        return true;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        var count = _lastRead.Slice(_lastRead.Start, consumed).Length;
        _lastRead = default;
        inner.AdvanceTo(consumed, examined);
        if (count > 0) onConsumed((int)count);
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);
}

namespace ParallelNet.Rpc.Internal.Http2;

/// <summary>
/// Keepalive for either side of a connection: when it has calls in flight but the peer has been silent for
/// <c>delay</c>, it sends a PING; no answer within <c>timeout</c> ends the connection. This notices a peer that vanished
/// without closing its TCP connection.
/// </summary>
internal sealed class Http2KeepAlive(TimeSpan delay, TimeSpan timeout, Func<bool> hasActiveStreams, Action<byte[]> sendPing, Action<TimeSpan> onNoAnswer)
{
    private long _lastReceivedTicks = Environment.TickCount64;
    private TaskCompletionSource? _pingAnswered;

    public bool Enabled => delay != Timeout.InfiniteTimeSpan;

    /// <summary>Any frame from the peer shows it is alive.</summary>
    public void OnFrameReceived() => Volatile.Write(ref _lastReceivedTicks, Environment.TickCount64);

    public void OnPingAcknowledged() => Volatile.Read(ref _pingAnswered)?.TrySetResult();

    /// <summary>Runs until <paramref name="closing"/> fires or the peer fails to answer.</summary>
    public async Task RunAsync(CancellationToken closing)
    {
        try
        {
            while (!closing.IsCancellationRequested)
            {
                await Task.Delay(delay, closing).ConfigureAwait(false);
                if (!hasActiveStreams() || Environment.TickCount64 - Volatile.Read(ref _lastReceivedTicks) < delay.TotalMilliseconds) continue;
                var answered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Volatile.Write(ref _pingAnswered, answered);
                sendPing(BitConverter.GetBytes(Environment.TickCount64));
                try
                {
                    await answered.Task.WaitAsync(timeout, closing).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    onNoAnswer(timeout);
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The connection closed.
        }
    }
}

using System.Reflection;
using ParallelNet.Rpc.Internal.Http2;

namespace ParallelNet.Rpc.Tests;

/// <summary>The client's response-body stream: how a waiting read ends.</summary>
public sealed class Http2StreamTests
{
    [Fact]
    public async Task A_read_that_ends_while_its_cancellation_callback_waits_for_the_stream_does_not_deadlock()
    {
        // The stream completes a waiting read under its lock. Its cancellation callback takes that lock too: here it is
        // already running (blocked on the lock) when the end of the data completes the read. Waiting for the callback
        // there would wait forever; the read must end, and the callback then find nothing left to cancel.
        var stream = new Http2Stream(null!, 1, 65_535, new HttpRequestMessage());
        object gate = typeof(Http2Stream).GetField("_lock", BindingFlags.Instance | BindingFlags.NonPublic)!.GetValue(stream)!;
        using var cancel = new CancellationTokenSource();
        ValueTask<int> read = stream.ReadAtLeastAsync(new byte[16], 1, cancel.Token);
        Task? cancelling = null;
        using var locked = new ManualResetEventSlim();

        var ending = new Thread(() =>
        {
            lock (gate)
            {
                locked.Set();
                cancelling = Task.Run(cancel.Cancel);
                SpinWait.SpinUntil(() => cancel.IsCancellationRequested);
                Thread.Sleep(100); // the callback is now blocked on the lock this thread holds
                stream.EndOfData();
            }
        }) { IsBackground = true };
        ending.Start();

        Assert.True(ending.Join(TimeSpan.FromSeconds(10)), "completing the read waited for a cancellation callback that waits for the stream's lock");
        Assert.Equal(0, await read.AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        await cancelling!.WaitAsync(TimeSpan.FromSeconds(10));
    }
}

using ParallelNet.Rpc.Internal.Http2;

namespace ParallelNet.Rpc.Tests;

/// <summary>The sending side of HTTP/2 flow control that client and server connections share.</summary>
public sealed class Http2SendWindowsTests
{
    private sealed class Stream(long window) : IHttp2SendingStream
    {
        public long SendWindow { get; set; } = window;
    }

    [Theory]
    [InlineData(100, 1000, 50, 16384, 50)] // what is wanted
    [InlineData(100, 1000, 500, 16384, 100)] // the stream window
    [InlineData(1000, 100, 500, 16384, 100)] // the connection window
    [InlineData(100_000, 100_000, 50_000, 16384, 16384)] // one frame
    public void A_frame_takes_the_least_of_what_is_wanted_both_windows_and_the_frame_size(long stream, long connection, int wanted, int maxFrame, int expected)
    {
        var windows = new Http2SendWindows { Connection = connection };
        var sending = new Stream(stream);

        Assert.Equal(expected, windows.TryTake(sending, wanted, maxFrame));
        Assert.Equal((stream - expected, connection - expected), (sending.SendWindow, windows.Connection));
    }

    [Fact]
    public void An_empty_or_overdrawn_window_grants_nothing_and_bytes_given_back_wake_the_waiters()
    {
        var windows = new Http2SendWindows { Connection = 10 };
        var overdrawn = new Stream(-5); // a SETTINGS_INITIAL_WINDOW_SIZE decrease may leave a stream below zero
        Assert.Equal(0, windows.TryTake(overdrawn, 10, 16384));
        Assert.Equal(10, windows.TryTake(new Stream(100), 50, 16384));
        Assert.Equal(0, windows.TryTake(new Stream(100), 50, 16384));
        var waiting = windows.Changed;
        Assert.False(waiting.IsCompleted);

        windows.GiveBack(10);

        Assert.True(waiting.IsCompleted);
        Assert.False(windows.Changed.IsCompleted);
        Assert.Equal((-5, 10L), (overdrawn.SendWindow, windows.Connection));
    }
}

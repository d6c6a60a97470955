namespace ParallelNet.Rpc.Internal;

internal static class KeepAliveValidation
{
    /// <summary>Kestrel and SocketsHttpHandler both refuse keep-alive intervals under one second.</summary>
    public static void Check(TimeSpan value, string name, string owner)
    {
        if (value != Timeout.InfiniteTimeSpan && value < TimeSpan.FromSeconds(1))
            throw new ArgumentOutOfRangeException(name, value, $"{owner}.{name} must be at least one second, or Timeout.InfiniteTimeSpan for no pings.");
    }
}

namespace ParallelNet.Tensors.OpenCL;

/// <summary>Counts of host-to-device writes (uploads) and device-to-host reads (downloads), with their bytes.</summary>
public sealed record HostTransfers(long Uploads, long UploadedBytes, long Downloads, long DownloadedBytes)
{
    public static HostTransfers None { get; } = new(0, 0, 0, 0);

    /// <summary>The transfers between <paramref name="earlier"/> and this count.</summary>
    public HostTransfers Since(HostTransfers earlier)
    {
        ArgumentNullException.ThrowIfNull(earlier);
        return new(Uploads - earlier.Uploads, UploadedBytes - earlier.UploadedBytes, Downloads - earlier.Downloads, DownloadedBytes - earlier.DownloadedBytes);
    }
}

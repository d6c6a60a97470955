namespace ParallelNet.Cluster.Tests.Support;

/// <summary>A fresh directory for shared-memory rings (under /dev/shm when there is one), removed with what is left in it.</summary>
internal sealed class RingDirectory : IDisposable
{
    public RingDirectory()
    {
        string parent = Directory.Exists("/dev/shm") ? "/dev/shm" : System.IO.Path.GetTempPath();
        Path = Directory.CreateDirectory(System.IO.Path.Combine(parent, "pn-test-" + Guid.NewGuid().ToString("N"))).FullName;
    }

    public string Path { get; }

    /// <summary>The ring files still named in the directory.</summary>
    public string[] Rings => Directory.GetFiles(Path, "*.ring");

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

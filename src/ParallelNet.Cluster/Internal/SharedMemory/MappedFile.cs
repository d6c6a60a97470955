using System.Buffers;
using System.IO.MemoryMappedFiles;
using Microsoft.Win32.SafeHandles;

namespace ParallelNet.Cluster.Internal.SharedMemory;

/// <summary>
/// A whole file mapped into this process as one block of memory (at most 1 GiB). The mapping stays valid until
/// disposed, whatever happens to the file's name, so a ring's creator may unlink it as soon as its peer mapped it.
/// </summary>
internal sealed unsafe class MappedFile : MemoryManager<byte>
{
    private readonly MemoryMappedFile file;
    private readonly MemoryMappedViewAccessor view;
    private readonly byte* pointer;
    private int disposed;

    private MappedFile(MemoryMappedFile file, MemoryMappedViewAccessor view, int length)
    {
        this.file = file;
        this.view = view;
        Length = length;
        byte* start = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
        pointer = start + view.PointerOffset;
    }

    public int Length { get; }

    /// <summary>
    /// Creates <paramref name="path"/> (it must not exist) readable and writable by this user only, with all its
    /// <paramref name="length"/> bytes allocated now: a full tmpfs then fails here with an IOException instead of
    /// killing the process with SIGBUS at the first write to a page it cannot back.
    /// </summary>
    public static MappedFile Create(string path, int length)
    {
        if (!OperatingSystem.IsLinux()) throw new IOException("same-host rings need Linux");
        var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.ReadWrite,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            PreallocationSize = length,
        });
        try
        {
            if (stream.Length != length) stream.SetLength(length);
            var file = MemoryMappedFile.CreateFromFile(stream, null, length, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false);
            return new MappedFile(file, file.CreateViewAccessor(0, length, MemoryMappedFileAccess.ReadWrite), length);
        }
        catch
        {
            stream.Dispose();
            File.Delete(path);
            throw;
        }
    }

    /// <summary>
    /// Maps an existing regular file read-only, if it is exactly <paramref name="length"/> bytes and readable by its
    /// owner alone (mode 0600: this process can open it only as that user, so the peer is no stranger).
    /// </summary>
    public static MappedFile OpenReadOnly(string path, int length)
    {
        if (!OperatingSystem.IsLinux()) throw new IOException("same-host rings need Linux");
        if (new FileInfo(path).LinkTarget is not null) throw new IOException("it is a symbolic link");
        SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        try
        {
            UnixFileMode mode = File.GetUnixFileMode(handle);
            if (mode != (UnixFileMode.UserRead | UnixFileMode.UserWrite))
                throw new IOException($"its mode is {Convert.ToString((int)mode, 8)}, not 600");
            long actual = RandomAccess.GetLength(handle);
            if (actual != length) throw new IOException($"it holds {actual} bytes, not the {length} offered");
            var file = MemoryMappedFile.CreateFromFile(handle, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            return new MappedFile(file, file.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read), length);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public override Span<byte> GetSpan()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        return new Span<byte>(pointer, Length);
    }

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(elementIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(elementIndex, Length);
        return new MemoryHandle(pointer + elementIndex);
    }

    public override void Unpin()
    {
        // The mapping does not move: nothing to unpin.
    }

    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0) return;
        view.SafeMemoryMappedViewHandle.ReleasePointer();
        view.Dispose();
        file.Dispose();
    }
}

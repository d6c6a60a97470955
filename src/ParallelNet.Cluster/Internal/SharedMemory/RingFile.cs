using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace ParallelNet.Cluster.Internal.SharedMemory;

/// <summary>
/// The layout and names of shared-memory ring files. A ring file is a 4 KiB header page (magic, capacity, the nonce
/// its offer carries) followed by the ring's data; its name, <c>parallelnet-PID-RANDOM.ring</c>, tells which process
/// made it, so a node can remove the rings of processes that died before they unlinked them.
/// </summary>
internal static partial class RingFile
{
    public const int HeaderBytes = 4096;
    public const int NonceBytes = 16;
    public const long MinCapacity = 1L << 20;
    public const long MaxCapacity = 1L << 30;

    private static ReadOnlySpan<byte> Magic => "PNRING01"u8;

    [GeneratedRegex(@"^parallelnet-(?<pid>[0-9]{1,10})-[0-9a-f]{16}\.ring$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    public static string NewName(ulong id) => $"parallelnet-{Environment.ProcessId}-{id:x16}.ring";

    /// <summary>True for names this code makes: a peer's offer can name no other file.</summary>
    public static bool IsRingName(string name) => NamePattern().IsMatch(name);

    public static byte[] NewNonce() => RandomNumberGenerator.GetBytes(NonceBytes);

    public static void WriteHeader(Span<byte> header, long capacity, ReadOnlySpan<byte> nonce)
    {
        Magic.CopyTo(header);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], capacity);
        nonce.CopyTo(header[16..]);
    }

    /// <summary>Null when the header is the one the offer promised; else what differs.</summary>
    public static string? CheckHeader(ReadOnlySpan<byte> header, long capacity, ReadOnlySpan<byte> nonce)
    {
        if (!header[..8].SequenceEqual(Magic)) return "its header is not a ParallelNet ring's";
        if (BinaryPrimitives.ReadInt64LittleEndian(header[8..]) != capacity) return "its header names another capacity than the offer";
        if (!header.Slice(16, NonceBytes).SequenceEqual(nonce)) return "its nonce differs from the offer's (another file of that name)";
        return null;
    }

    /// <summary>Removes the ring files in <paramref name="directory"/> whose creating process no longer runs; returns how many.</summary>
    public static int RemoveOrphans(string directory)
    {
        if (!Directory.Exists("/proc/self")) return 0; // no way to tell a live process from a dead one
        int removed = 0;
        foreach (string path in Directory.EnumerateFiles(directory, "parallelnet-*.ring"))
        {
            var match = NamePattern().Match(Path.GetFileName(path));
            if (!match.Success || !int.TryParse(match.Groups["pid"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) continue;
            if (Directory.Exists($"/proc/{pid}")) continue;
            try
            {
                File.Delete(path);
                removed++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another user's, or gone already: not ours to clean.
            }
        }
        return removed;
    }
}

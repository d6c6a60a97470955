using System.Buffers.Binary;
using System.IO.Compression;

namespace ParallelNet.Data.Internal;

/// <summary>
/// The IDX format of the MNIST files: a big-endian magic number (0x0000 08 NN: unsigned bytes, NN
/// dimensions), NN big-endian int32 dimensions, then the bytes. Gzip is recognised by its own
/// magic bytes, not by the file name, so a renamed file still reads.
/// </summary>
internal static class IdxFile
{
    public const int ImagesMagic = 2051;
    public const int LabelsMagic = 2049;

    /// <summary>Reads a whole IDX file; checks the magic number and that the payload is exactly as long as the header says.</summary>
    public static (int[] Dims, byte[] Data) Read(string path, int expectedMagic)
    {
        try
        {
            using var file = File.OpenRead(path);
            return Read(file, path, expectedMagic);
        }
        catch (FileNotFoundException)
        {
            throw new DataException($"{path}: file not found.");
        }
        catch (IOException e) when (e is not EndOfStreamException)
        {
            throw new DataException($"{path}: cannot read the file: {e.Message}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new DataException($"{path}: cannot read the file: {e.Message}", e);
        }
    }

    public static (int[] Dims, byte[] Data) Read(Stream file, string path, int expectedMagic)
    {
        Span<byte> probe = stackalloc byte[2];
        int probed = ReadUpTo(file, probe);
        bool gzip = probed == 2 && probe[0] == 0x1f && probe[1] == 0x8b;
        file.Position = 0;
        using Stream source = gzip ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: true) : new BufferedStream(file, 1 << 16);
        try
        {
            return ReadPayload(source, path, expectedMagic, gzip);
        }
        catch (InvalidDataException e)
        {
            throw new DataException($"{path}: the gzip data is corrupt ({e.Message}); delete the file and fetch it again.", e);
        }
    }

    private static (int[] Dims, byte[] Data) ReadPayload(Stream source, string path, int expectedMagic, bool gzip)
    {
        string kind = gzip ? "decompressed " : "";
        Span<byte> word = stackalloc byte[4];
        if (ReadUpTo(source, word) < 4)
            throw new DataException($"{path}: the {kind}file is shorter than the 4-byte IDX magic number; it is truncated or not an IDX file.");
        int magic = BinaryPrimitives.ReadInt32BigEndian(word);
        if (magic != expectedMagic)
            throw new DataException($"{path}: wrong magic number {magic} (0x{magic:X8}), expected {expectedMagic} (0x{expectedMagic:X8}, {Describe(expectedMagic)}); this is not the right IDX file.");
        int rank = magic & 0xFF;
        var dims = new int[rank];
        long payload = 1;
        for (int i = 0; i < rank; i++)
        {
            if (ReadUpTo(source, word) < 4)
                throw new DataException($"{path}: the {kind}file ends inside the header (dimension {i} of {rank} is missing); it is truncated.");
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(word);
            if (dims[i] < 0) throw new DataException($"{path}: dimension {i} in the header is negative ({dims[i]}); the file is corrupt.");
            payload *= dims[i];
        }
        if (payload > Array.MaxLength)
            throw new DataException($"{path}: the header promises {payload} bytes of data, more than fits in memory; the file is corrupt.");
        var data = new byte[payload];
        int read = ReadUpTo(source, data);
        if (read < payload)
            throw new DataException($"{path}: the header [{string.Join(", ", dims)}] promises {payload} bytes of data but the {kind}file holds only {read}; it is truncated. Delete it and fetch it again.");
        Span<byte> extra = stackalloc byte[1];
        if (ReadUpTo(source, extra) > 0)
            throw new DataException($"{path}: the {kind}file has more bytes than its header [{string.Join(", ", dims)}] describes; it is corrupt or not an IDX file.");
        return (dims, data);
    }

    private static string Describe(int magic) => magic switch
    {
        ImagesMagic => "an images file",
        LabelsMagic => "a labels file",
        _ => "IDX",
    };

    private static int ReadUpTo(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = stream.Read(buffer[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }
}

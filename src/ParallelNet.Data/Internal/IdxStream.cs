using System.Buffers.Binary;
using System.IO.Compression;
using System.Numerics.Tensors;

namespace ParallelNet.Data.Internal;

/// <summary>
/// An open IDX file (the MNIST format): a big-endian magic number (0x0000 08 NN: unsigned bytes,
/// NN dimensions), NN big-endian int32 dimensions, then the bytes. Gzip is recognised by its own
/// magic bytes, not by the file name. The header is checked on open; the payload must be exactly
/// as long as the header says. Errors are <see cref="DataException"/>s naming the file.
/// </summary>
internal sealed class IdxStream : IDisposable
{
    public const int ImagesMagic = 2051;
    public const int LabelsMagic = 2049;

    private readonly Stream _source;
    private readonly Stream? _owned;
    private readonly string _what;

    private IdxStream(Stream source, Stream? owned, string path, bool gzip)
    {
        _source = source;
        _owned = owned;
        Path = path;
        _what = gzip ? "decompressed file" : "file";
        Dims = [];
    }

    public string Path { get; }
    public int[] Dims { get; private set; }
    public long PayloadLength { get; private set; }

    public static IdxStream Open(string path, int expectedMagic)
    {
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataException(e is FileNotFoundException or DirectoryNotFoundException
                ? $"{path}: file not found." : $"{path}: cannot read the file: {e.Message}", e);
        }
        try
        {
            return Open(file, path, expectedMagic, ownsStream: true);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Opens a seekable stream (rewound to its start) holding an IDX file.</summary>
    public static IdxStream Open(Stream file, string path, int expectedMagic, bool ownsStream)
    {
        Span<byte> probe = stackalloc byte[2];
        int probed = file.ReadAtLeast(probe, 2, throwOnEndOfStream: false);
        bool gzip = probed == 2 && probe[0] == 0x1f && probe[1] == 0x8b;
        file.Position = 0;
        Stream source = gzip ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: !ownsStream) : file;
        var idx = new IdxStream(source, ownsStream || gzip ? source : null, path, gzip);
        try
        {
            idx.ReadHeader(expectedMagic);
            return idx;
        }
        catch
        {
            idx.Dispose();
            throw;
        }
    }

    /// <summary>The whole payload as bytes.</summary>
    public byte[] ReadBytes()
    {
        var data = GC.AllocateUninitializedArray<byte>((int)PayloadLength);
        ReadPayload(data);
        ExpectEnd();
        return data;
    }

    /// <summary>
    /// The whole payload as floats byte / <paramref name="divisor"/>, then standardized by
    /// <paramref name="normalization"/> (global or identity), decoded chunk by chunk while decompressing.
    /// </summary>
    public float[] ReadScaled(float divisor, Normalization normalization)
    {
        if (!normalization.IsIdentity && !normalization.IsGlobal)
            throw new ArgumentException("Only a global normalization can be applied to a byte stream without regard to rows.", nameof(normalization));
        var values = GC.AllocateUninitializedArray<float>((int)PayloadLength);
        var chunk = new byte[1 << 16];
        long done = 0;
        while (done < PayloadLength)
        {
            int n = (int)Math.Min(chunk.Length, PayloadLength - done);
            var bytes = chunk.AsSpan(0, n);
            ReadPayload(bytes, done);
            // Vectorized library calls: fast even in a debug build, and each step is one IEEE
            // operation per value, so the bits equal those of the scalar formula.
            var output = values.AsSpan((int)done, n);
            TensorPrimitives.ConvertTruncating<byte, float>(bytes, output);
            TensorPrimitives.Divide(output, divisor, output);
            normalization.Apply(output);
            done += n;
        }
        ExpectEnd();
        return values;
    }

    public void Dispose() => _owned?.Dispose();

    private void ReadHeader(int expectedMagic)
    {
        Span<byte> word = stackalloc byte[4];
        if (Fill(word) < 4)
            throw new DataException($"{Path}: the {_what} is shorter than the 4-byte IDX magic number; it is truncated or not an IDX file.");
        int magic = BinaryPrimitives.ReadInt32BigEndian(word);
        if (magic != expectedMagic)
            throw new DataException($"{Path}: wrong magic number {magic} (0x{magic:X8}), expected {expectedMagic} (0x{expectedMagic:X8}, {Describe(expectedMagic)}); this is not the right IDX file.");
        int rank = magic & 0xFF;
        var dims = new int[rank];
        long payload = 1;
        for (int i = 0; i < rank; i++)
        {
            if (Fill(word) < 4)
                throw new DataException($"{Path}: the {_what} ends inside the header (dimension {i} of {rank} is missing); it is truncated.");
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(word);
            if (dims[i] < 0) throw new DataException($"{Path}: dimension {i} in the header is negative ({dims[i]}); the file is corrupt.");
            payload *= dims[i];
            if (payload > Array.MaxLength)
                throw new DataException($"{Path}: the header promises more bytes than fit in memory; the file is corrupt.");
        }
        Dims = dims;
        PayloadLength = payload;
    }

    private void ReadPayload(Span<byte> destination, long alreadyRead = 0)
    {
        int read = Fill(destination);
        if (read < destination.Length)
            throw new DataException($"{Path}: the header [{string.Join(", ", Dims)}] promises {PayloadLength} bytes of data but the {_what} holds only {alreadyRead + read}; it is truncated. Delete it and fetch it again.");
    }

    private void ExpectEnd()
    {
        Span<byte> extra = stackalloc byte[1];
        if (Fill(extra) > 0)
            throw new DataException($"{Path}: the {_what} has more bytes than its header [{string.Join(", ", Dims)}] describes; it is corrupt or not an IDX file.");
    }

    private int Fill(Span<byte> buffer)
    {
        try
        {
            return _source.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        }
        catch (InvalidDataException e)
        {
            throw new DataException($"{Path}: the gzip data is corrupt ({e.Message}); delete the file and fetch it again.", e);
        }
        catch (IOException e)
        {
            throw new DataException($"{Path}: cannot read the file: {e.Message}", e);
        }
    }

    private static string Describe(int magic) => magic switch
    {
        ImagesMagic => "an images file",
        LabelsMagic => "a labels file",
        _ => "IDX",
    };
}

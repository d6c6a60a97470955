using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ParallelNet.Training.Checkpoints;

/// <summary>A named float32 tensor as stored in a safetensors file.</summary>
public sealed record NamedTensor(string Name, int[] Shape, float[] Data);

/// <summary>Raised for a checkpoint that must not be loaded; the message says why (checksum, truncated, wrong model...).</summary>
public sealed class CheckpointException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The safetensors layout (8-byte little-endian header length, JSON header, raw little-endian data) with
/// a SHA-256 checksum in <c>__metadata__</c>. The checksum covers the header (with the checksum value
/// zeroed) and all data bytes, so a flipped bit anywhere is caught. Writes are atomic: temporary file,
/// flush to disk, rename.
/// </summary>
public static class SafeTensors
{
    public const string ChecksumKey = "checksum";
    private static readonly string ZeroChecksum = new('0', 64);
    private const long MaxHeaderBytes = 100 * 1024 * 1024;

    public static void Write(string path, IReadOnlyList<NamedTensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var header = BuildHeader(tensors, metadata);
        long dataBytes = tensors.Sum(t => (long)t.Data.Length * sizeof(float));
        byte[] headerBytes = Encoding.UTF8.GetBytes(header);

        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(headerBytes);
        foreach (var t in tensors) sha.AppendData(AsLittleEndianBytes(t.Data));
        string checksum = Convert.ToHexStringLower(sha.GetHashAndReset());
        header = header.Replace($"\"{ChecksumKey}\":\"{ZeroChecksum}\"", $"\"{ChecksumKey}\":\"{checksum}\"", StringComparison.Ordinal);
        headerBytes = Encoding.UTF8.GetBytes(header);

        string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        string temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                Span<byte> length = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)headerBytes.Length);
                stream.Write(length);
                stream.Write(headerBytes);
                foreach (var t in tensors) stream.Write(AsLittleEndianBytes(t.Data));
                stream.Flush(flushToDisk: true);
                if (stream.Length != 8 + headerBytes.Length + dataBytes) throw new IOException($"Wrote {stream.Length} bytes to {temporary}, expected {8 + headerBytes.Length + dataBytes}.");
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            try { File.Delete(temporary); } catch (IOException) { }
            throw;
        }
    }

    /// <summary>Reads and verifies a file; throws <see cref="CheckpointException"/> naming the problem.</summary>
    public static (IReadOnlyList<NamedTensor> Tensors, IReadOnlyDictionary<string, string> Metadata) Read(string path)
    {
        if (!File.Exists(path)) throw new CheckpointException($"Checkpoint '{path}' does not exist.");
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (IOException e) { throw new CheckpointException($"Checkpoint '{path}' cannot be read: {e.Message}", e); }

        if (bytes.Length < 8) throw new CheckpointException($"Checkpoint '{path}' is truncated: {bytes.Length} bytes, not even a header length.");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > MaxHeaderBytes || 8 + (long)headerLength > bytes.Length)
            throw new CheckpointException($"Checkpoint '{path}' is truncated or not a safetensors file: header claims {headerLength} bytes, file has {bytes.Length}.");
        var headerSpan = bytes.AsSpan(8, (int)headerLength);
        var dataSpan = bytes.AsSpan(8 + (int)headerLength);

        JsonDocument document;
        try { document = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength)); }
        catch (JsonException e) { throw new CheckpointException($"Checkpoint '{path}' has a corrupt header (checksum cannot be verified): {e.Message}", e); }
        using var _ = document;

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var tensors = new List<NamedTensor>();
        var entries = new List<(string Name, int[] Shape, long Begin, long End)>();
        foreach (var property in document.RootElement.EnumerateObject())
        {
            if (property.Name == "__metadata__")
            {
                foreach (var m in property.Value.EnumerateObject()) metadata[m.Name] = m.Value.GetString() ?? "";
                continue;
            }
            var dtype = property.Value.GetProperty("dtype").GetString();
            if (dtype != "F32") throw new CheckpointException($"Checkpoint '{path}': tensor '{property.Name}' has dtype {dtype}; ParallelNet reads F32 only.");
            var shape = property.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var offsets = property.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            entries.Add((property.Name, shape, offsets[0], offsets[1]));
        }

        if (!metadata.TryGetValue(ChecksumKey, out var expected) || expected.Length != 64)
            throw new CheckpointException($"Checkpoint '{path}' has no checksum in its metadata; it was not written by ParallelNet or is corrupt.");
        long maxEnd = entries.Count == 0 ? 0 : entries.Max(e => e.End);
        if (maxEnd > dataSpan.Length)
            throw new CheckpointException($"Checkpoint '{path}' is truncated: tensors need {maxEnd} data bytes, the file has {dataSpan.Length}.");

        string header = Encoding.UTF8.GetString(headerSpan);
        string zeroed = header.Replace($"\"{ChecksumKey}\":\"{expected}\"", $"\"{ChecksumKey}\":\"{ZeroChecksum}\"", StringComparison.Ordinal);
        using (var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            sha.AppendData(Encoding.UTF8.GetBytes(zeroed));
            sha.AppendData(dataSpan);
            string actual = Convert.ToHexStringLower(sha.GetHashAndReset());
            if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
                throw new CheckpointException($"Checkpoint '{path}' failed its checksum (stored {expected[..12]}..., computed {actual[..12]}...): the file is corrupt; it was not loaded.");
        }

        foreach (var (name, shape, begin, end) in entries)
        {
            long count = shape.Aggregate(1L, (a, d) => a * d);
            if (begin < 0 || end < begin || end - begin != count * sizeof(float))
                throw new CheckpointException($"Checkpoint '{path}': tensor '{name}' has offsets [{begin}, {end}) that do not match its shape [{string.Join(", ", shape)}].");
            var data = new float[count];
            var source = dataSpan.Slice((int)begin, (int)(end - begin));
            if (BitConverter.IsLittleEndian) source.CopyTo(MemoryMarshal.AsBytes(data.AsSpan()));
            else for (int i = 0; i < data.Length; i++) data[i] = BinaryPrimitives.ReadSingleLittleEndian(source[(i * 4)..]);
            tensors.Add(new NamedTensor(name, shape, data));
        }
        return (tensors, metadata);
    }

    private static string BuildHeader(IReadOnlyList<NamedTensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartObject("__metadata__");
            foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                if (key == ChecksumKey) continue;
                json.WriteString(key, value);
            }
            json.WriteString(ChecksumKey, ZeroChecksum);
            json.WriteEndObject();
            long offset = 0;
            foreach (var t in tensors)
            {
                long count = t.Shape.Aggregate(1L, (a, d) => a * d);
                if (count != t.Data.Length) throw new ArgumentException($"Tensor '{t.Name}' has {t.Data.Length} elements but shape [{string.Join(", ", t.Shape)}].");
                json.WriteStartObject(t.Name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (var d in t.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                offset += count * sizeof(float);
                json.WriteNumberValue(offset);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        var header = Encoding.UTF8.GetString(buffer.ToArray());
        // safetensors pads the header with spaces so the data starts 8-byte aligned.
        int padding = (8 - header.Length % 8) % 8;
        return header + new string(' ', padding);
    }

    private static ReadOnlySpan<byte> AsLittleEndianBytes(float[] data)
    {
        if (BitConverter.IsLittleEndian) return MemoryMarshal.AsBytes(data.AsSpan());
        var bytes = new byte[data.Length * 4];
        for (int i = 0; i < data.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), data[i]);
        return bytes;
    }
}

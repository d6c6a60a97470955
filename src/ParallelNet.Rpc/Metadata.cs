using System.Collections;
using System.Text;

namespace ParallelNet.Rpc;

/// <summary>
/// gRPC headers or trailers: an ordered list of key/value entries. Keys are lowercase
/// [0-9a-z_.-]; keys ending in "-bin" carry bytes (base64 on the wire), the others printable ASCII.
/// </summary>
public sealed class Metadata : IList<Metadata.Entry>
{
    public const string BinaryHeaderSuffix = "-bin";

    private readonly List<Entry> _entries = [];

    public Metadata Add(string key, string value)
    {
        Add(new Entry(key, value));
        return this;
    }

    public Metadata Add(string key, byte[] valueBytes)
    {
        Add(new Entry(key, valueBytes));
        return this;
    }

    /// <summary>The last entry with this key, or null.</summary>
    public Entry? Get(string key)
    {
        var normalized = Entry.NormalizeKey(key);
        for (var i = _entries.Count - 1; i >= 0; i--)
            if (_entries[i].Key == normalized) return _entries[i];
        return null;
    }

    public IEnumerable<Entry> GetAll(string key)
    {
        var normalized = Entry.NormalizeKey(key);
        return _entries.Where(e => e.Key == normalized);
    }

    /// <summary>The string value of the last entry with this key, or null.</summary>
    public string? GetValue(string key) => Get(key)?.Value;

    /// <summary>The bytes of the last "-bin" entry with this key, or null.</summary>
    public byte[]? GetValueBytes(string key) => Get(key)?.ValueBytes;

    public Entry this[int index] { get => _entries[index]; set => _entries[index] = value ?? throw new ArgumentNullException(nameof(value)); }
    public int Count => _entries.Count;
    public bool IsReadOnly => false;
    public void Add(Entry item) => _entries.Add(item ?? throw new ArgumentNullException(nameof(item)));
    public void Clear() => _entries.Clear();
    public bool Contains(Entry item) => _entries.Contains(item);
    public void CopyTo(Entry[] array, int arrayIndex) => _entries.CopyTo(array, arrayIndex);
    public IEnumerator<Entry> GetEnumerator() => _entries.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    public int IndexOf(Entry item) => _entries.IndexOf(item);
    public void Insert(int index, Entry item) => _entries.Insert(index, item ?? throw new ArgumentNullException(nameof(item)));
    public bool Remove(Entry item) => _entries.Remove(item);
    public void RemoveAt(int index) => _entries.RemoveAt(index);

    /// <summary>One metadata entry; binary entries keep their bytes, text entries their ASCII string.</summary>
    public sealed class Entry
    {
        private readonly string? _value;
        private readonly byte[]? _valueBytes;

        public Entry(string key, string value)
        {
            ArgumentNullException.ThrowIfNull(value);
            Key = NormalizeKey(key);
            if (IsBinaryKey(Key))
                throw new ArgumentException($"Metadata key '{Key}' ends in '-bin', so its value must be bytes: use Entry(key, byte[]).", nameof(key));
            foreach (var c in value)
                if (c < 0x20 || c > 0x7E)
                    throw new ArgumentException($"Metadata value for '{Key}' contains the character U+{(int)c:X4}; text metadata must be printable ASCII. Use a '-bin' key for arbitrary bytes.", nameof(value));
            _value = value;
        }

        public Entry(string key, byte[] valueBytes)
        {
            ArgumentNullException.ThrowIfNull(valueBytes);
            Key = NormalizeKey(key);
            if (!IsBinaryKey(Key))
                throw new ArgumentException($"Metadata key '{Key}' carries bytes, so it must end in '-bin'.", nameof(key));
            _valueBytes = valueBytes;
        }

        public string Key { get; }

        public bool IsBinary => _valueBytes is not null;

        /// <summary>The text value; for a binary entry reading it is an error.</summary>
        public string Value => _value ?? throw new InvalidOperationException($"Metadata entry '{Key}' is binary: read ValueBytes instead of Value.");

        /// <summary>The bytes of a binary entry, or the ASCII bytes of a text entry.</summary>
        public byte[] ValueBytes => _valueBytes ?? Encoding.ASCII.GetBytes(_value!);

        public override string ToString() => IsBinary ? $"{Key}: [{_valueBytes!.Length} bytes]" : $"{Key}: {_value}";

        internal static bool IsBinaryKey(string key) => key.EndsWith(BinaryHeaderSuffix, StringComparison.Ordinal);

        internal static string NormalizeKey(string key)
        {
            ArgumentException.ThrowIfNullOrEmpty(key);
            var lower = key.ToLowerInvariant();
            foreach (var c in lower)
                if (!(c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-' or '_' or '.'))
                    throw new ArgumentException($"Metadata key '{key}' contains '{c}'; keys may only use 0-9, a-z, '-', '_' and '.'.", nameof(key));
            return lower;
        }
    }
}

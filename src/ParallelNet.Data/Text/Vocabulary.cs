namespace ParallelNet.Data.Text;

/// <summary>
/// Words with their corpus counts, most frequent first (ties in ordinal order, so the ids are a pure function of
/// the corpus). Words seen fewer than min count times are left out.
/// </summary>
public sealed class Vocabulary
{
    private readonly string[] _words;
    private readonly long[] _counts;
    private readonly Dictionary<string, int> _ids;

    public Vocabulary(IReadOnlyList<string> words, IReadOnlyList<long> counts)
    {
        ArgumentNullException.ThrowIfNull(words);
        ArgumentNullException.ThrowIfNull(counts);
        if (words.Count != counts.Count) throw new ArgumentException($"{words.Count} words but {counts.Count} counts; give one count per word.");
        _words = words.ToArray();
        _counts = counts.ToArray();
        _ids = new Dictionary<string, int>(_words.Length, StringComparer.Ordinal);
        for (int i = 0; i < _words.Length; i++)
        {
            if (!_ids.TryAdd(_words[i], i)) throw new ArgumentException($"Word '{_words[i]}' appears twice in the vocabulary.");
        }
    }

    public static Vocabulary Build(TextCorpus corpus, int minCount)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        if (minCount < 1) throw new ArgumentOutOfRangeException(nameof(minCount), $"min count must be at least 1, got {minCount}.");
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var sentence in corpus.Sentences)
        {
            foreach (var word in sentence) counts[word] = counts.GetValueOrDefault(word) + 1;
        }
        var kept = counts.Where(kv => kv.Value >= minCount)
            .OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).ToArray();
        if (kept.Length < 2)
            throw new DataException($"Only {kept.Length} distinct word(s) occur at least {minCount} times in the corpus; lower --min-count or give a larger corpus.");
        return new Vocabulary(kept.Select(kv => kv.Key).ToArray(), kept.Select(kv => kv.Value).ToArray());
    }

    public int Count => _words.Length;
    public IReadOnlyList<string> Words => _words;
    public IReadOnlyList<long> Counts => _counts;

    /// <summary>The word's id, or -1 if it is not in the vocabulary.</summary>
    public int IdOf(string word) => _ids.TryGetValue(word, out int id) ? id : -1;
}

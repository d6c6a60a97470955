using System.Text;

namespace ParallelNet.Data.Text;

/// <summary>
/// A plain-text corpus for word embeddings: one sentence per line, words are runs of letters, digits, apostrophes
/// and hyphens, lower-cased (invariant culture); everything else separates words. Windows never cross a line.
/// </summary>
public sealed class TextCorpus
{
    private TextCorpus(IReadOnlyList<string[]> sentences) => Sentences = sentences;

    public IReadOnlyList<string[]> Sentences { get; }

    public long WordCount => Sentences.Sum(s => (long)s.Length);

    public static TextCorpus Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new DataException($"Corpus file '{path}' does not exist; give a plain-text file with one sentence per line.");
        using var reader = new StreamReader(path, Encoding.UTF8);
        return Parse(reader);
    }

    public static TextCorpus Parse(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var sentences = new List<string[]>();
        var words = new List<string>();
        var word = new StringBuilder();
        while (reader.ReadLine() is { } line)
        {
            foreach (char ch in line)
            {
                if (char.IsLetterOrDigit(ch) || ch is '\'' or '-') word.Append(char.ToLowerInvariant(ch));
                else Flush();
            }
            Flush();
            if (words.Count > 0) sentences.Add(words.ToArray());
            words.Clear();
        }
        return new TextCorpus(sentences);

        void Flush()
        {
            if (word.Length == 0) return;
            words.Add(word.ToString());
            word.Clear();
        }
    }

    /// <summary>The sentences as ids of <paramref name="vocabulary"/>; words it does not know (below min count) are dropped.</summary>
    public int[][] Encode(Vocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        var encoded = new List<int[]>(Sentences.Count);
        foreach (var sentence in Sentences)
        {
            var ids = sentence.Select(vocabulary.IdOf).Where(id => id >= 0).ToArray();
            if (ids.Length > 0) encoded.Add(ids);
        }
        return encoded.ToArray();
    }
}

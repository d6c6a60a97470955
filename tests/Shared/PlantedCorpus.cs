namespace ParallelNet.Testing;

/// <summary>
/// A generated corpus with planted structure for word2vec: the words of a category are interchangeable in sentence
/// templates, so their vectors must end up closest to each other.
/// </summary>
internal static class PlantedCorpus
{
    private static readonly string[][] Categories =
    [
        ["cat", "dog", "horse", "cow", "sheep", "goat", "mouse", "rabbit"],
        ["bread", "rice", "apple", "cheese", "soup", "pasta", "carrot", "plum"],
        ["park", "garden", "field", "barn", "forest", "meadow", "yard", "valley"],
        ["hammer", "saw", "drill", "wrench", "chisel", "shovel", "rake", "axe"],
        ["red", "blue", "green", "yellow", "purple", "orange", "white", "black"],
    ];

    // {0} animal, {1} food, {2} place, {3} tool, {4} colour.
    private static readonly string[] Templates =
    [
        "the {0} eats the {1} in the {2}",
        "a {4} {3} lies in the {2}",
        "my {0} likes {1} and sleeps in the {2}",
        "she paints the {3} {4} with care",
        "we cook {1} for the hungry {0}",
        "he fixed the {3} near the {2} today",
    ];

    /// <summary>The corpus as ids (id = category·8 + index) and its counts; template words get ids after the categories.</summary>
    public static (int[][] Sentences, long[] Counts, int CategoryWords) Generate(int sentences, int seed)
    {
        var ids = new Dictionary<string, int>();
        foreach (var word in Categories.SelectMany(c => c)) ids[word] = ids.Count;
        int categoryWords = ids.Count;
        var random = new System.Random(seed);
        var corpus = new int[sentences][];
        for (int s = 0; s < sentences; s++)
        {
            var filled = string.Format(Templates[random.Next(Templates.Length)], Categories.Select(c => (object)c[random.Next(c.Length)]).ToArray());
            corpus[s] = filled.Split(' ').Select(w => ids.TryGetValue(w, out int id) ? id : ids[w] = ids.Count).ToArray();
        }
        var counts = new long[ids.Count];
        foreach (var sentence in corpus)
        {
            foreach (int id in sentence) counts[id]++;
        }
        return (corpus, counts, categoryWords);
    }

    /// <summary>The share of the category words' <paramref name="top"/> nearest neighbours (by <paramref name="nearest"/>) that come from the word's own category.</summary>
    public static double SameCategoryFraction(int categoryWords, Func<int, IEnumerable<int>> nearest)
    {
        int inCategory = 0, total = 0;
        for (int id = 0; id < categoryWords; id++)
        {
            foreach (int neighbour in nearest(id))
            {
                total++;
                if (neighbour < categoryWords && neighbour / 8 == id / 8) inCategory++;
            }
        }
        return (double)inCategory / total;
    }
}

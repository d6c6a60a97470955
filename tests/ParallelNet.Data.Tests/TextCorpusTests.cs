using ParallelNet.Data.Text;

namespace ParallelNet.Data.Tests;

public sealed class TextCorpusTests
{
    [Fact]
    public void SplitsLinesIntoLowerCaseWords_KeepingApostrophesAndHyphens()
    {
        var corpus = TextCorpus.Parse(new StringReader("The cat's well-known hat.\n\n  DOG, dog;  cat\n"));
        Assert.Equal(2, corpus.Sentences.Count);
        Assert.Equal(["the", "cat's", "well-known", "hat"], corpus.Sentences[0]);
        Assert.Equal(["dog", "dog", "cat"], corpus.Sentences[1]);
        Assert.Equal(7, corpus.WordCount);
    }

    [Fact]
    public void VocabularyOrdersByCountThenWord_AndDropsRareWords()
    {
        var corpus = TextCorpus.Parse(new StringReader("b a c b\na b d c\n"));
        var vocabulary = Vocabulary.Build(corpus, minCount: 2);
        Assert.Equal(["b", "a", "c"], vocabulary.Words);
        Assert.Equal([3L, 2, 2], vocabulary.Counts);
        Assert.Equal(-1, vocabulary.IdOf("d"));
        Assert.Equal([[0, 1, 2, 0], [1, 0, 2]], corpus.Encode(vocabulary));
    }

    [Fact]
    public void TooSmallAVocabularyOrAMissingFileIsAClearError()
    {
        var e = Assert.Throws<DataException>(() => Vocabulary.Build(TextCorpus.Parse(new StringReader("a a b")), minCount: 2));
        Assert.Contains("lower --min-count", e.Message);
        var missing = Assert.Throws<DataException>(() => TextCorpus.Read("/nonexistent/corpus.txt"));
        Assert.Contains("does not exist", missing.Message);
    }
}

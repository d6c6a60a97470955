using ParallelNet.NN.Word2Vec;
using ParallelNet.NN.Word2Vec.Internal;
using static ParallelNet.Testing.PlantedCorpus;

namespace ParallelNet.NN.Tests;

/// <summary>
/// word2vec on a generated corpus with planted structure: the words of a category are interchangeable in sentence
/// templates, so their vectors must end up closest to each other. Plus the fast kernel against its naive twin,
/// determinism, the subsampling formula, the noise distribution and the analogy arithmetic.
/// </summary>
public sealed class Word2VecTests
{
    [Theory]
    [InlineData(Word2VecArchitecture.SkipGram)]
    [InlineData(Word2VecArchitecture.Cbow)]
    public void NearestNeighboursComeFromTheWordsOwnCategory(Word2VecArchitecture architecture)
    {
        var (sentences, counts, categoryWords) = Generate(4000, seed: 3);
        var options = new Word2VecOptions { Architecture = architecture, Dimension = 24, Window = 3, Epochs = 4, Seed = 7 };
        var model = Word2VecTrainer.Train(sentences, counts, options);

        double fraction = SameCategoryFraction(categoryWords, id => model.Nearest(id, 5).Select(n => n.Id));
        Assert.True(fraction >= 0.9, $"{architecture}: only {fraction:P1} of the 5 nearest neighbours share the word's category (need >= 90 %).");
    }

    [Theory]
    [InlineData(Word2VecArchitecture.SkipGram)]
    [InlineData(Word2VecArchitecture.Cbow)]
    public void FastKernelTrainsLikeItsNaiveTwin(Word2VecArchitecture architecture)
    {
        var (sentences, counts, _) = Generate(60, seed: 5);
        var options = new Word2VecOptions { Architecture = architecture, Dimension = 13, Window = 2, Epochs = 2, Seed = 3 };
        var fast = Word2VecTrainer.Train<FastSgnsKernel>(sentences, counts, options, null);
        var naive = Word2VecTrainer.Train<NaiveSgnsKernel>(sentences, counts, options, null);
        // Float32 dot products in another order: the tables drift apart by rounding only.
        TestSupport.AssertClose(naive.InputVectors, fast.InputVectors, 1e-5, 1e-3, "input vectors");
        TestSupport.AssertClose(naive.OutputVectors, fast.OutputVectors, 1e-5, 1e-3, "output vectors");
        Assert.Contains(fast.OutputVectors, v => v != 0f);
    }

    [Fact]
    public void SameSeedGivesBitwiseTheSameVectors_AnotherSeedDoesNot()
    {
        var (sentences, counts, _) = Generate(200, seed: 9);
        var options = new Word2VecOptions { Dimension = 10, Epochs = 1, Seed = 4 };
        var first = Word2VecTrainer.Train(sentences, counts, options);
        var second = Word2VecTrainer.Train(sentences, counts, options);
        var other = Word2VecTrainer.Train(sentences, counts, options with { Seed = 5 });
        Assert.Equal(first.InputVectors, second.InputVectors);
        Assert.Equal(first.OutputVectors, second.OutputVectors);
        Assert.NotEqual(first.InputVectors, other.InputVectors);
    }

    [Fact]
    public void ReportsEachEpochWithFallingLoss()
    {
        var (sentences, counts, _) = Generate(1000, seed: 2);
        var epochs = new List<Word2VecEpoch>();
        Word2VecTrainer.Train(sentences, counts, new Word2VecOptions { Dimension = 16, Epochs = 3 }, epochs.Add);
        Assert.Equal([1, 2, 3], epochs.Select(e => e.Epoch));
        Assert.All(epochs, e => Assert.Equal(sentences.Sum(s => s.Length), e.Words));
        Assert.True(epochs[2].AverageLoss < epochs[0].AverageLoss, $"loss did not fall: {string.Join(", ", epochs.Select(e => e.AverageLoss))}");
    }

    [Theory]
    [InlineData(0.1, 1e-3, 0.1099)]   // (sqrt(100) + 1) · 0.01 = 0.11
    [InlineData(1e-4, 1e-3, 1.0)]      // rare words are always kept
    [InlineData(0.5, 0.0, 1.0)]        // threshold 0: subsampling off
    public void SubsamplingKeepsFrequentWordsWithTheOriginalProbability(double frequency, double threshold, double expected)
        => Assert.Equal(expected, Word2VecTrainer.KeepProbability(frequency, threshold), 3);

    [Fact]
    public void NoiseWordsFollowTheUnigramDistributionToThePowerThreeQuarters()
    {
        long[] counts = [1000, 100, 10, 1];
        var sampler = new NegativeSampler(counts);
        var hits = new int[counts.Length];
        const int draws = 200_000;
        for (int i = 0; i < draws; i++) hits[sampler.Sample((i + 0.5) / draws)]++;
        double norm = counts.Sum(c => Math.Pow(c, 0.75));
        for (int w = 0; w < counts.Length; w++)
            Assert.Equal(Math.Pow(counts[w], 0.75) / norm, hits[w] / (double)draws, 3);
    }

    [Fact]
    public void AnalogyFindsTheWordAtBMinusAPlusC()
    {
        // man, king, woman, queen, apple: king - man + woman = queen.
        float[] vectors = [1, 0, 0, 1, 1, 0, 0, 0, 1, 0, 1, 1, 0.2f, -1, 0.1f];
        var model = new Word2VecModel(vectors, new float[vectors.Length], 5, 3);
        var best = model.Analogy(0, 1, 2, top: 2);
        Assert.Equal(3, best[0].Id);
        Assert.True(best[0].Similarity > best[1].Similarity + 0.5f, $"queen {best[0].Similarity} should clearly beat {best[1].Id} at {best[1].Similarity}");
        Assert.DoesNotContain(best, b => b.Id is 0 or 1 or 2);
    }

    [Fact]
    public void RejectsIdsOutsideTheVocabularyAndBadOptions()
    {
        var e = Assert.Throws<ArgumentException>(() => Word2VecTrainer.Train([[0, 5]], [3, 4], new Word2VecOptions()));
        Assert.Contains("word id 5 is outside the vocabulary of 2", e.Message);
        e = Assert.Throws<ArgumentException>(() => Word2VecTrainer.Train([[0, 1]], [3, 4], new Word2VecOptions { Negatives = 0 }));
        Assert.Contains("negatives must be at least 1", e.Message);
    }
}

namespace ParallelNet.NN.Word2Vec;

public enum Word2VecArchitecture
{
    /// <summary>Each word predicts the words around it.</summary>
    SkipGram,
    /// <summary>The mean of the surrounding words predicts the word (continuous bag of words).</summary>
    Cbow,
}

/// <summary>
/// word2vec with negative sampling (Mikolov et al. 2013), defaults as in the original tool: 100 dimensions, window 5
/// (each position draws its actual window uniformly from 1..window), k = 5 noise words from unigram^0.75, frequent
/// words subsampled with threshold 1e-3, learning rate 0.025 (skip-gram) or 0.05 (CBOW) decaying linearly to 1e-4 of it.
/// </summary>
public sealed record Word2VecOptions
{
    public Word2VecArchitecture Architecture { get; init; } = Word2VecArchitecture.SkipGram;
    public int Dimension { get; init; } = 100;
    public int Window { get; init; } = 5;
    public int Negatives { get; init; } = 5;
    /// <summary>Subsampling threshold t: a word of frequency f is kept with probability (sqrt(f/t) + 1)·t/f; 0 turns it off.</summary>
    public double Subsample { get; init; } = 1e-3;
    /// <summary>Starting learning rate; null means 0.025 for skip-gram and 0.05 for CBOW.</summary>
    public float? LearningRate { get; init; }
    public int Epochs { get; init; } = 5;
    public ulong Seed { get; init; } = 1;

    public float StartingLearningRate => LearningRate ?? (Architecture == Word2VecArchitecture.SkipGram ? 0.025f : 0.05f);

    /// <summary>Throws an ArgumentException naming the first bad option and its accepted range.</summary>
    public void Validate()
    {
        if (Dimension < 1) throw new ArgumentException($"word2vec: dimension must be at least 1, got {Dimension}.");
        if (Window < 1) throw new ArgumentException($"word2vec: window must be at least 1, got {Window}.");
        if (Negatives < 1) throw new ArgumentException($"word2vec: negatives must be at least 1 (k noise words per target), got {Negatives}.");
        if (!(Subsample >= 0)) throw new ArgumentException($"word2vec: subsample must be 0 (off) or a positive threshold such as 1e-3, got {Subsample}.");
        if (!(StartingLearningRate > 0 && float.IsFinite(StartingLearningRate))) throw new ArgumentException($"word2vec: learning rate must be positive, got {StartingLearningRate}.");
        if (Epochs < 1) throw new ArgumentException($"word2vec: epochs must be at least 1, got {Epochs}.");
    }
}

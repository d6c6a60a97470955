using System.Numerics.Tensors;

namespace ParallelNet.NN.Word2Vec;

/// <summary>
/// Trained word vectors: the input table (the embeddings people use, PyTorch-style name in_embed.weight) and the
/// output table (out_embed.weight), both [vocabulary, dimension], with cosine nearest-neighbour queries.
/// </summary>
public sealed class Word2VecModel
{
    private readonly float[] _unit;

    public Word2VecModel(float[] inputVectors, float[] outputVectors, int vocabularySize, int dimension)
    {
        ArgumentNullException.ThrowIfNull(inputVectors);
        ArgumentNullException.ThrowIfNull(outputVectors);
        if (vocabularySize < 1 || dimension < 1) throw new ArgumentException($"vocabulary size and dimension must be positive, got {vocabularySize} and {dimension}.");
        long size = (long)vocabularySize * dimension;
        if (inputVectors.Length != size || outputVectors.Length != size)
            throw new ArgumentException($"tables of {inputVectors.Length} and {outputVectors.Length} floats do not match [{vocabularySize}, {dimension}] ({size}).");
        InputVectors = inputVectors;
        OutputVectors = outputVectors;
        VocabularySize = vocabularySize;
        Dimension = dimension;
        _unit = new float[size];
        for (int w = 0; w < vocabularySize; w++)
        {
            var v = inputVectors.AsSpan(w * dimension, dimension);
            float norm = TensorPrimitives.Norm(v);
            if (norm > 0) TensorPrimitives.Divide(v, norm, _unit.AsSpan(w * dimension, dimension));
        }
    }

    public float[] InputVectors { get; }
    public float[] OutputVectors { get; }
    public int VocabularySize { get; }
    public int Dimension { get; }

    public ReadOnlySpan<float> Vector(int id) => InputVectors.AsSpan(CheckId(id) * Dimension, Dimension);

    /// <summary>The <paramref name="top"/> words most cosine-similar to <paramref name="id"/>, itself excluded, best first (ties by id).</summary>
    public IReadOnlyList<(int Id, float Similarity)> Nearest(int id, int top) => Nearest(Vector(id), top, [id]);

    /// <summary>"a is to b as c is to ?": the words nearest to b - a + c (unit vectors), a, b and c excluded.</summary>
    public IReadOnlyList<(int Id, float Similarity)> Analogy(int a, int b, int c, int top)
    {
        var query = new float[Dimension];
        var unit = _unit.AsSpan();
        TensorPrimitives.Subtract(unit.Slice(CheckId(b) * Dimension, Dimension), unit.Slice(CheckId(a) * Dimension, Dimension), query);
        TensorPrimitives.Add(query, unit.Slice(CheckId(c) * Dimension, Dimension), query);
        return Nearest(query, top, [a, b, c]);
    }

    public IReadOnlyList<(int Id, float Similarity)> Nearest(ReadOnlySpan<float> query, int top, IReadOnlyCollection<int> exclude)
    {
        if (query.Length != Dimension) throw new ArgumentException($"the query has {query.Length} dimensions, the vectors {Dimension}.");
        if (top < 1) throw new ArgumentOutOfRangeException(nameof(top), $"top must be at least 1, got {top}.");
        float norm = TensorPrimitives.Norm(query);
        var scores = new List<(int Id, float Similarity)>(VocabularySize);
        for (int w = 0; w < VocabularySize; w++)
        {
            if (exclude.Contains(w)) continue;
            float dot = TensorPrimitives.Dot(query, _unit.AsSpan(w * Dimension, Dimension));
            scores.Add((w, norm > 0 ? dot / norm : 0f));
        }
        return scores.OrderByDescending(s => s.Similarity).ThenBy(s => s.Id).Take(top).ToArray();
    }

    private int CheckId(int id) => (uint)id < (uint)VocabularySize
        ? id
        : throw new ArgumentOutOfRangeException(nameof(id), $"word id {id} is outside the vocabulary of {VocabularySize}.");
}

using ParallelNet.NN.Losses;
using ParallelNet.NN.Word2Vec.Internal;
using ParallelNet.Tensors;
using ParallelNet.Tensors.Random;

namespace ParallelNet.NN.Word2Vec;

/// <summary>
/// word2vec as fixed-width training examples for the data-parallel trainer (the "word2vec" layer and "bce" loss):
/// each example is [C context ids (-1 pads), the word to predict, k noise words] with targets [1, 0, ..., 0].
/// Skip-gram gives one example per (centre, context word) pair with C = 1; CBOW one per centre with C = 2·window.
/// Subsampling, window sizes and noise words are drawn from the same counter-based streams as
/// <see cref="Word2VecTrainer"/>, once: every epoch of the trainer reshuffles these examples.
/// </summary>
public sealed class Word2VecExamples
{
    private Word2VecExamples(float[] ids, float[] targets, int contexts, int negatives, int vocabulary, int dimension)
    {
        Ids = ids;
        Targets = targets;
        Contexts = contexts;
        Negatives = negatives;
        Vocabulary = vocabulary;
        Dimension = dimension;
    }

    /// <summary>[Count, Width] word ids as floats.</summary>
    public float[] Ids { get; }
    /// <summary>[Count, 1 + Negatives]: 1 for the word to predict, 0 for each noise word.</summary>
    public float[] Targets { get; }
    public int Contexts { get; }
    public int Negatives { get; }
    public int Vocabulary { get; }
    public int Dimension { get; }
    public int Width => Contexts + 1 + Negatives;
    public int Count => Ids.Length / Width;

    /// <summary>The model these examples train: one word2vec layer scored with binary cross-entropy.</summary>
    public ModelSpec Spec => new(new Shape(Width),
        [new LayerSpec("word2vec", ("vocabulary", Vocabulary), ("dim", Dimension), ("contexts", Contexts))], LossKind.BinaryCrossEntropy);

    public static Word2VecExamples Build(IReadOnlyList<int[]> sentences, IReadOnlyList<long> counts, Word2VecOptions options)
    {
        ArgumentNullException.ThrowIfNull(sentences);
        ArgumentNullException.ThrowIfNull(counts);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int vocabulary = counts.Count, k = options.Negatives;
        if (vocabulary < 2) throw new ArgumentException($"word2vec needs at least 2 words in the vocabulary, got {vocabulary}.");
        bool skipGram = options.Architecture == Word2VecArchitecture.SkipGram;
        int contexts = skipGram ? 1 : 2 * options.Window, width = contexts + 1 + k;
        var sampler = new NegativeSampler(counts);
        double total = counts.Sum(c => (double)c);
        var keep = counts.Select(c => Word2VecTrainer.KeepProbability(c / total, options.Subsample)).ToArray();
        var ids = new List<float>();
        var kept = new List<int>();
        var example = new float[width];
        for (int s = 0; s < sentences.Count; s++)
        {
            var sentence = sentences[s];
            var choices = RandomStream.For(options.Seed, RandomPurpose.Subsampling, 0, s);
            var noise = RandomStream.For(options.Seed, RandomPurpose.NegativeSampling, 0, s);
            ulong noiseIndex = 0;
            kept.Clear();
            for (int i = 0; i < sentence.Length; i++)
            {
                if ((uint)sentence[i] >= (uint)vocabulary) throw new ArgumentException($"word2vec: word id {sentence[i]} is outside the vocabulary of {vocabulary}.");
                if (choices.Uniform((ulong)i) < keep[sentence[i]]) kept.Add(sentence[i]);
            }
            for (int p = 0; p < kept.Count; p++)
            {
                int reach = 1 + (int)(choices.Uniform((ulong)(sentence.Length + p)) * options.Window);
                int first = Math.Max(0, p - reach), last = Math.Min(kept.Count - 1, p + reach);
                if (last == first) continue;
                if (skipGram)
                {
                    for (int c = first; c <= last; c++)
                    {
                        if (c == p) continue;
                        example[0] = kept[p];
                        Add(kept[c]);
                    }
                }
                else
                {
                    Array.Fill(example, -1f, 0, contexts);
                    int at = 0;
                    for (int c = first; c <= last; c++)
                    {
                        if (c != p) example[at++] = kept[c];
                    }
                    Add(kept[p]);
                }
            }

            void Add(int target)
            {
                example[contexts] = target;
                for (int j = 0; j < k; j++)
                {
                    // A draw equal to the target is drawn again (a few times at most), as it would teach nothing.
                    int word = sampler.Sample(noise.Uniform(noiseIndex++));
                    for (int retry = 0; word == target && retry < 8; retry++) word = sampler.Sample(noise.Uniform(noiseIndex++));
                    example[contexts + 1 + j] = word;
                }
                ids.AddRange(example);
            }
        }
        var ids1 = ids.ToArray();
        var targets = new float[ids1.Length / width * (1 + k)];
        for (int e = 0; e < targets.Length; e += 1 + k) targets[e] = 1f;
        return new Word2VecExamples(ids1, targets, contexts, k, vocabulary, options.Dimension);
    }

    /// <summary>The trained vectors from a model's flat weights (layout of <see cref="Spec"/>).</summary>
    public static Word2VecModel ToModel(ParameterLayout layout, ReadOnlySpan<float> weights)
    {
        ArgumentNullException.ThrowIfNull(layout);
        var input = layout["0.in_embed.weight"];
        var output = layout["0.out_embed.weight"];
        if (weights.Length < layout.TotalSize) throw new ArgumentException($"{weights.Length} weights for a layout of {layout.TotalSize}.");
        return new Word2VecModel(weights.Slice(input.Offset, input.Length).ToArray(), weights.Slice(output.Offset, output.Length).ToArray(),
            input.Shape[0], input.Shape[1]);
    }
}

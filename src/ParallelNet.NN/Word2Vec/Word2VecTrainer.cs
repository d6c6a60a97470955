using System.Diagnostics;
using ParallelNet.NN.Word2Vec.Internal;
using ParallelNet.Tensors.Random;

namespace ParallelNet.NN.Word2Vec;

/// <summary>What one epoch of word2vec did: mean logistic loss per (target or noise) step, corpus words read, and time.</summary>
public readonly record struct Word2VecEpoch(int Epoch, double AverageLoss, long Words, double Seconds)
{
    public double WordsPerSecond => Seconds > 0 ? Words / Seconds : double.NaN;
}

/// <summary>
/// Trains word2vec (skip-gram or CBOW with negative sampling) by plain SGD over the corpus in order, one word at a
/// time, as the original tool does with one thread. Every random choice (subsampling, window size, noise words) is
/// drawn from a counter-based stream keyed by (seed, epoch, sentence), so a run is a pure function of the corpus and
/// the options.
/// </summary>
public static class Word2VecTrainer
{
    /// <param name="sentences">The corpus as word ids (windows never cross a sentence).</param>
    /// <param name="counts">Each id's corpus count (for subsampling and the noise distribution).</param>
    public static Word2VecModel Train(IReadOnlyList<int[]> sentences, IReadOnlyList<long> counts, Word2VecOptions options, Action<Word2VecEpoch>? onEpoch = null)
        => Train<FastSgnsKernel>(sentences, counts, options, onEpoch);

    internal static Word2VecModel Train<TKernel>(IReadOnlyList<int[]> sentences, IReadOnlyList<long> counts, Word2VecOptions options, Action<Word2VecEpoch>? onEpoch)
        where TKernel : struct, ISgnsKernel
    {
        ArgumentNullException.ThrowIfNull(sentences);
        ArgumentNullException.ThrowIfNull(counts);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int vocabulary = counts.Count, d = options.Dimension;
        if (vocabulary < 2) throw new ArgumentException($"word2vec needs at least 2 words in the vocabulary, got {vocabulary}.");
        foreach (var sentence in sentences)
        {
            foreach (int id in sentence)
            {
                if ((uint)id >= (uint)vocabulary) throw new ArgumentException($"word2vec: word id {id} is outside the vocabulary of {vocabulary}; encode the corpus with the same vocabulary as the counts.");
            }
        }

        var input = new float[vocabulary * d];
        var output = new float[vocabulary * d];
        // As the original tool: input vectors uniform in ±0.5/d, output vectors zero.
        RandomStream.For(options.Seed, RandomPurpose.Init, 0).FillUniform(0, input);
        for (int i = 0; i < input.Length; i++) input[i] = (input[i] - 0.5f) / d;

        var sampler = new NegativeSampler(counts);
        long corpusWords = sentences.Sum(s => (long)s.Length);
        double total = counts.Sum(c => (double)c);
        var keepProbability = counts.Select(c => KeepProbability(c / total, options.Subsample)).ToArray();
        var state = new Scratch(d, sentences.Count == 0 ? 0 : sentences.Max(s => s.Length));
        long processed = 0;
        float startRate = options.StartingLearningRate;
        var kernel = default(TKernel);

        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            long start = Stopwatch.GetTimestamp();
            double lossSum = 0;
            long steps = 0;
            for (int s = 0; s < sentences.Count; s++)
            {
                var sentence = sentences[s];
                double progress = (double)processed / ((double)corpusWords * options.Epochs + 1);
                float rate = startRate * (float)Math.Max(1e-4, 1 - progress);
                processed += sentence.Length;
                var choices = RandomStream.For(options.Seed, RandomPurpose.Subsampling, epoch, s);
                var noise = RandomStream.For(options.Seed, RandomPurpose.NegativeSampling, epoch, s);
                ulong noiseIndex = 0;

                int length = 0;
                for (int i = 0; i < sentence.Length; i++)
                {
                    if (choices.Uniform((ulong)i) < keepProbability[sentence[i]]) state.Kept[length++] = sentence[i];
                }
                var kept = state.Kept.AsSpan(0, length);
                for (int p = 0; p < kept.Length; p++)
                {
                    // Element sentence.Length + p: past the subsampling draws of this stream.
                    int reach = 1 + (int)(choices.Uniform((ulong)(sentence.Length + p)) * options.Window);
                    int first = Math.Max(0, p - reach), last = Math.Min(kept.Length - 1, p + reach);
                    if (options.Architecture == Word2VecArchitecture.SkipGram)
                    {
                        var hidden = input.AsSpan(kept[p] * d, d);
                        for (int c = first; c <= last; c++)
                        {
                            if (c == p) continue;
                            state.Gradient.AsSpan().Clear();
                            lossSum += Targets(kernel, hidden, state.Gradient, output, kept[c], sampler, noise, ref noiseIndex, options.Negatives, rate, d, ref steps);
                            TensorAdd(hidden, state.Gradient);
                        }
                    }
                    else
                    {
                        if (last == first) continue;
                        var hidden = state.Hidden.AsSpan();
                        hidden.Clear();
                        for (int c = first; c <= last; c++)
                        {
                            if (c != p) TensorAdd(hidden, input.AsSpan(kept[c] * d, d));
                        }
                        System.Numerics.Tensors.TensorPrimitives.Multiply(hidden, 1f / (last - first), hidden);
                        state.Gradient.AsSpan().Clear();
                        lossSum += Targets(kernel, hidden, state.Gradient, output, kept[p], sampler, noise, ref noiseIndex, options.Negatives, rate, d, ref steps);
                        for (int c = first; c <= last; c++)
                        {
                            if (c != p) TensorAdd(input.AsSpan(kept[c] * d, d), state.Gradient);
                        }
                    }
                }
            }
            onEpoch?.Invoke(new Word2VecEpoch(epoch + 1, steps == 0 ? double.NaN : lossSum / steps, corpusWords, Stopwatch.GetElapsedTime(start).TotalSeconds));
        }
        return new Word2VecModel(input, output, vocabulary, d);
    }

    /// <summary>The original tool's keep probability (sqrt(f/t) + 1)·t/f, capped at 1.</summary>
    internal static double KeepProbability(double frequency, double threshold)
        => threshold <= 0 || frequency <= 0 ? 1 : Math.Min(1, (Math.Sqrt(frequency / threshold) + 1) * threshold / frequency);

    // The positive target, then k noise words (a draw equal to the target is skipped, as in the original tool).
    private static double Targets<TKernel>(TKernel kernel, ReadOnlySpan<float> hidden, Span<float> gradient, float[] output, int target,
        NegativeSampler sampler, RandomStream noise, ref ulong noiseIndex, int negatives, float rate, int d, ref long steps)
        where TKernel : struct, ISgnsKernel
    {
        double loss = kernel.Update(hidden, gradient, output.AsSpan(target * d, d), 1f, rate);
        steps++;
        for (int k = 0; k < negatives; k++)
        {
            int word = sampler.Sample(noise.Uniform(noiseIndex++));
            if (word == target) continue;
            loss += kernel.Update(hidden, gradient, output.AsSpan(word * d, d), 0f, rate);
            steps++;
        }
        return loss;
    }

    private static void TensorAdd(Span<float> y, ReadOnlySpan<float> x) => System.Numerics.Tensors.TensorPrimitives.Add(y, x, y);

    private sealed class Scratch(int dimension, int longestSentence)
    {
        public float[] Hidden { get; } = new float[dimension];
        public float[] Gradient { get; } = new float[dimension];
        public int[] Kept { get; } = new int[longestSentence];
    }
}

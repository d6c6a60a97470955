using System.Text.Json;
using ParallelNet.Data.Text;
using ParallelNet.NN.Word2Vec;
using ParallelNet.Training.Checkpoints;

namespace ParallelNet.Cli.Commands;

/// <summary>
/// A word2vec model on disk: the safetensors layout with in_embed.weight and out_embed.weight [vocabulary, dim], and the
/// vocabulary (words and counts, JSON arrays in id order) and training options in __metadata__.
/// </summary>
internal static class Word2VecCheckpoint
{
    private const string Kind = "word2vec";

    public static void Write(string path, Vocabulary vocabulary, Word2VecModel model, Word2VecOptions options)
    {
        int[] shape = [model.VocabularySize, model.Dimension];
        var metadata = new Dictionary<string, string>
        {
            ["model"] = Kind,
            ["vocabulary"] = JsonSerializer.Serialize(vocabulary.Words),
            ["counts"] = JsonSerializer.Serialize(vocabulary.Counts),
            ["options"] = JsonSerializer.Serialize(new
            {
                architecture = options.Architecture == Word2VecArchitecture.SkipGram ? "skipgram" : "cbow",
                dim = options.Dimension, window = options.Window, negatives = options.Negatives,
                subsample = options.Subsample, lr = options.StartingLearningRate, epochs = options.Epochs, seed = options.Seed,
            }),
            [SafeTensors.ChecksumKey] = new string('0', 64),
        };
        SafeTensors.Write(path, [new NamedTensor("in_embed.weight", shape, model.InputVectors), new NamedTensor("out_embed.weight", shape, model.OutputVectors)], metadata);
    }

    public static (Vocabulary Vocabulary, Word2VecModel Model) Read(string path)
    {
        var (tensors, metadata) = SafeTensors.Read(path);
        if (metadata.GetValueOrDefault("model") != Kind)
            throw new CheckpointException($"Checkpoint '{path}' is not a word2vec model (train one with 'parallelnet word2vec').");
        var input = tensors.FirstOrDefault(t => t.Name == "in_embed.weight");
        var output = tensors.FirstOrDefault(t => t.Name == "out_embed.weight");
        if (input is null || output is null || input.Shape.Length != 2)
            throw new CheckpointException($"Checkpoint '{path}' lacks the [vocabulary, dim] tables in_embed.weight and out_embed.weight.");
        string[] words;
        long[] counts;
        try
        {
            words = JsonSerializer.Deserialize<string[]>(metadata.GetValueOrDefault("vocabulary") ?? "null") ?? [];
            counts = JsonSerializer.Deserialize<long[]>(metadata.GetValueOrDefault("counts") ?? "null") ?? [];
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"Checkpoint '{path}' has an unreadable vocabulary: {e.Message}", e);
        }
        if (words.Length != input.Shape[0] || counts.Length != words.Length)
            throw new CheckpointException($"Checkpoint '{path}' has {words.Length} words and {counts.Length} counts for {input.Shape[0]} vectors.");
        return (new Vocabulary(words, counts), new Word2VecModel(input.Data, output.Data, input.Shape[0], input.Shape[1]));
    }

    /// <summary>The word's id, or a usage error that says the word is unknown.</summary>
    public static int Id(Vocabulary vocabulary, string word)
    {
        int id = vocabulary.IdOf(word.ToLowerInvariant());
        return id >= 0 ? id : throw new UsageException($"'{word}' is not in the model's vocabulary of {vocabulary.Count:N0} words (rarer than the min count, or not in the corpus).");
    }
}

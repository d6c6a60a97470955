using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using ParallelNet.Data.Text;
using ParallelNet.NN.Word2Vec;

namespace ParallelNet.Cli.Commands;

/// <summary><c>parallelnet word2vec --corpus FILE --checkpoint FILE</c>: trains word vectors on a text corpus.</summary>
internal static class Word2VecCommand
{
    public static Command Create()
    {
        var corpus = new Option<FileInfo>("--corpus") { Description = "Plain-text corpus, one sentence per line.", Required = true };
        var checkpoint = new Option<FileInfo>("--checkpoint") { Description = "Where to write the model (safetensors).", Required = true };
        var architecture = new Option<string>("--architecture") { Description = "skipgram or cbow.", DefaultValueFactory = _ => "skipgram" };
        var dim = new Option<int>("--dim") { Description = "Vector dimension.", DefaultValueFactory = _ => 100 };
        var window = new Option<int>("--window") { Description = "Largest distance of a context word.", DefaultValueFactory = _ => 5 };
        var negatives = new Option<int>("--negatives") { Description = "Noise words per target (k).", DefaultValueFactory = _ => 5 };
        var minCount = new Option<int>("--min-count") { Description = "Drop words seen fewer times.", DefaultValueFactory = _ => 5 };
        var subsample = new Option<double>("--subsample") { Description = "Subsampling threshold (0 = off).", DefaultValueFactory = _ => 1e-3 };
        var epochs = new Option<int>("--epochs") { Description = "Passes over the corpus.", DefaultValueFactory = _ => 5 };
        var lr = new Option<float?>("--lr") { Description = "Starting learning rate (default 0.025 skip-gram, 0.05 CBOW)." };
        var seed = new Option<ulong>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 1UL };
        var json = new Option<bool>("--json") { Description = "Print one JSON object per epoch and a summary." };
        var command = new Command("word2vec", "Train word2vec (skip-gram or CBOW, negative sampling) on a text corpus.")
        {
            corpus, checkpoint, architecture, dim, window, negatives, minCount, subsample, epochs, lr, seed, json,
        };
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var options = new Word2VecOptions
            {
                Architecture = parse.GetValue(architecture) switch
                {
                    "skipgram" or "skip-gram" => Word2VecArchitecture.SkipGram,
                    "cbow" => Word2VecArchitecture.Cbow,
                    var other => throw new UsageException($"--architecture must be skipgram or cbow, got '{other}'."),
                },
                Dimension = parse.GetValue(dim), Window = parse.GetValue(window), Negatives = parse.GetValue(negatives),
                Subsample = parse.GetValue(subsample), Epochs = parse.GetValue(epochs), LearningRate = parse.GetValue(lr), Seed = parse.GetValue(seed),
            };
            try
            {
                options.Validate();
            }
            catch (ArgumentException e)
            {
                throw new UsageException(e.Message);
            }
            bool asJson = parse.GetValue(json);
            var text = TextCorpus.Read(parse.GetValue(corpus)!.FullName);
            var vocabulary = Vocabulary.Build(text, parse.GetValue(minCount));
            var sentences = text.Encode(vocabulary);
            long words = sentences.Sum(s => (long)s.Length);
            if (!asJson) output.WriteLine($"corpus: {text.WordCount:N0} words, vocabulary {vocabulary.Count:N0} (min count {parse.GetValue(minCount)}), {words:N0} words kept");
            var timer = Stopwatch.StartNew();
            var model = Word2VecTrainer.Train(sentences, vocabulary.Counts, options, epoch =>
            {
                if (asJson)
                    output.WriteLine(JsonSerializer.Serialize(new { @event = "epoch", epoch = epoch.Epoch, loss = epoch.AverageLoss, words = epoch.Words, seconds = epoch.Seconds, words_per_second = epoch.WordsPerSecond }));
                else
                    output.WriteLine($"epoch {epoch.Epoch}: loss {epoch.AverageLoss:F4}, {epoch.WordsPerSecond:N0} words/s, {epoch.Seconds:F1} s");
            });
            double seconds = timer.Elapsed.TotalSeconds;
            Word2VecCheckpoint.Write(parse.GetValue(checkpoint)!.FullName, vocabulary, model, options);
            double wordsPerSecond = words * (double)options.Epochs / seconds;
            if (asJson)
                output.WriteLine(JsonSerializer.Serialize(new { @event = "summary", vocabulary = vocabulary.Count, words, epochs = options.Epochs, seconds, words_per_second = wordsPerSecond }));
            else
                output.WriteLine($"wrote {parse.GetValue(checkpoint)!.FullName}: {vocabulary.Count:N0} words x {options.Dimension} dims, {wordsPerSecond:N0} words/s");
            return ExitCodes.Success;
        });
        return command;
    }
}

using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using ParallelNet.Data.Text;
using ParallelNet.NN.Word2Vec;
using ParallelNet.Training;
using ParallelNet.Training.Actors;
using ParallelNet.Training.Word2Vec;

namespace ParallelNet.Cli.Commands;

/// <summary>
/// <c>parallelnet word2vec --corpus FILE --checkpoint FILE [--workers N]</c>: trains word vectors on a text corpus,
/// word by word on one thread as the original tool does, or with <c>--workers</c> in mini-batches on the
/// data-parallel actors (the same vectors for any worker count).
/// </summary>
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
        var workers = new Option<int?>("--workers") { Description = "Train in mini-batches on N in-process worker actors (default: word by word on one thread)." };
        var batchSize = new Option<int>("--batch-size") { Description = "Examples per step with --workers.", DefaultValueFactory = _ => 128 };
        var shards = new Option<int>("--virtual-shards") { Description = "Virtual shards per step with --workers (a power of two).", DefaultValueFactory = _ => 4 };
        var command = new Command("word2vec", "Train word2vec (skip-gram or CBOW, negative sampling) on a text corpus.")
        {
            corpus, checkpoint, architecture, dim, window, negatives, minCount, subsample, epochs, lr, seed, json, workers, batchSize, shards,
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
            void Report(Word2VecEpoch epoch)
            {
                if (asJson)
                    output.WriteLine(JsonSerializer.Serialize(new { @event = "epoch", epoch = epoch.Epoch, loss = epoch.AverageLoss, words = epoch.Words, seconds = epoch.Seconds, words_per_second = epoch.WordsPerSecond }));
                else
                    output.WriteLine($"epoch {epoch.Epoch}: loss {epoch.AverageLoss:F4}, {epoch.WordsPerSecond:N0} words/s, {epoch.Seconds:F1} s");
            }
            var model = parse.GetValue(workers) is { } workerCount
                ? TrainOnActors(sentences, vocabulary.Counts, options, workerCount, parse.GetValue(batchSize), parse.GetValue(shards), words, Report)
                : Word2VecTrainer.Train(sentences, vocabulary.Counts, options, Report);
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

    private static Word2VecModel TrainOnActors(IReadOnlyList<int[]> sentences, IReadOnlyList<long> counts, Word2VecOptions options, int workers,
        int batchSize, int shards, long words, Action<Word2VecEpoch> report)
    {
        var settings = new ActorTrainerSettings { Workers = workers };
        try
        {
            settings.Validate();
            var job = new Word2VecJob(Word2VecExamples.Build(sentences, counts, options), options, batchSize, shards);
            job.TrainingOptions.Validate();
            return job.Run(settings, new EpochReporter(words, 1 + options.Negatives, report)).Model;
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
    }

    /// <summary>Turns the trainer's epoch reports into word2vec's (mean loss per logistic step, corpus words per second).</summary>
    private sealed class EpochReporter(long words, int logisticSteps, Action<Word2VecEpoch> report) : ITrainingObserver
    {
        public void OnEpoch(EpochCompleted epoch) => report(new Word2VecEpoch(epoch.Epoch + 1, epoch.TrainLoss / logisticSteps, words, epoch.Seconds));
    }
}

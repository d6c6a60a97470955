using System.CommandLine;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using ParallelNet.Data.Text;
using ParallelNet.NN.Word2Vec;
using ParallelNet.Tensors.Random;
using ParallelNet.Training.Actors;
using ParallelNet.Training.Word2Vec;

namespace ParallelNet.Cli.Bench;

internal sealed record Word2VecBenchmarkOptions(int Words, int Vocabulary, int Dimension, IReadOnlyList<int> PeerThreads, bool Json, string Python = "/usr/bin/python3");

/// <summary>
/// `parallelnet bench word2vec`: corpus words/s of one skip-gram epoch (dim 100 by default, window 5, k = 5, subsampling
/// 1e-3, min count 5) for ParallelNet and for PyTorch 1.13 (Bench/torch_word2vec.py, the batched sparse-SGD formulation)
/// on the same generated corpus: Zipf-distributed words (frequency ∝ 1/rank), 20 per line. A second row times the
/// data-parallel formulation (`word2vec --workers 2`: mini-batches of the peer's size on two worker actors, the tables
/// travelling as sparse rows); building its examples is not timed, as the peer's pair building is not either.
/// </summary>
internal static class Word2VecBenchmark
{
    /// <summary>torch_word2vec.py's default batch of pairs.</summary>
    private const int PeerBatch = 4096;

    public static Command Create()
    {
        var words = new Option<int>("--words") { Description = "Corpus size in words.", DefaultValueFactory = _ => 1_000_000 };
        var vocabulary = new Option<int>("--vocabulary") { Description = "Distinct words drawn from.", DefaultValueFactory = _ => 10_000 };
        var dim = new Option<int>("--dim") { Description = "Vector dimension.", DefaultValueFactory = _ => 100 };
        var peerThreads = new Option<int[]>("--peer-threads") { Description = "PyTorch thread counts (the best is the peer).", DefaultValueFactory = _ => [1, 2], AllowMultipleArgumentsPerToken = true };
        var json = new Option<bool>("--json") { Description = "One JSON object instead of a table." };
        var command = new Command("word2vec", "word2vec (skip-gram, negative sampling) words/s against PyTorch 1.13 on the same corpus.") { words, vocabulary, dim, peerThreads, json };
        command.SetAction(parse =>
        {
            var o = new Word2VecBenchmarkOptions(parse.GetValue(words), parse.GetValue(vocabulary), parse.GetValue(dim), parse.GetValue(peerThreads)!, parse.GetValue(json));
            if (o.Words < 1000 || o.Vocabulary < 2) throw new UsageException($"--words must be at least 1000 and --vocabulary at least 2, got {o.Words} and {o.Vocabulary}.");
            return Run(o, parse.InvocationConfiguration.Output);
        });
        return command;
    }

    public static int Run(Word2VecBenchmarkOptions o, TextWriter output)
    {
        string corpusPath = Path.Combine(Path.GetTempPath(), $"pn-w2v-bench-{Environment.ProcessId}.txt");
        try
        {
            WriteZipfCorpus(corpusPath, o.Words, o.Vocabulary);
            var corpus = TextCorpus.Read(corpusPath);
            var vocabulary = Vocabulary.Build(corpus, minCount: 5);
            var sentences = corpus.Encode(vocabulary);
            long words = sentences.Sum(s => (long)s.Length);
            var timer = Stopwatch.StartNew();
            Word2VecTrainer.Train(sentences, vocabulary.Counts, new Word2VecOptions { Dimension = o.Dimension, Epochs = 1 });
            double ours = words / timer.Elapsed.TotalSeconds;
            var options = new Word2VecOptions { Dimension = o.Dimension, Epochs = 1 };
            var job = new Word2VecJob(Word2VecExamples.Build(sentences, vocabulary.Counts, options), options, BatchSize: PeerBatch, VirtualShards: 4);
            timer.Restart();
            job.Run(new ActorTrainerSettings { Workers = 2, ThreadsPerWorker = 1 });
            double actors = words / timer.Elapsed.TotalSeconds;
            var (peer, peerThreads, error) = MeasurePeer(o, corpusPath);
            double Ratio(double rate) => peer > 0 ? rate / peer : double.NaN;
            if (o.Json)
            {
                output.WriteLine(JsonSerializer.Serialize(new { model = "word2vec", words, vocabulary = vocabulary.Count, dim = o.Dimension, words_per_second = ours,
                    actors_words_per_second = actors, peer_words_per_second = peer, peer_threads = peerThreads, ratio = Ratio(ours), actors_ratio = Ratio(actors), peer_error = error }));
            }
            else
            {
                output.WriteLine($"bench word2vec: skip-gram, dim {o.Dimension}, window 5, k 5, subsample 1e-3; {words:N0} words, vocabulary {vocabulary.Count:N0}; one epoch");
                output.WriteLine($"{"ParallelNet",-34} {"words/s",10} {"PyTorch words/s",16} {"(thr)",5} {"ratio",6}");
                output.WriteLine($"{"word by word, 1 thread",-34} {ours,10:N0} {peer,16:N0} {peerThreads,5} {Ratio(ours),6:F2}" + (error is null ? "" : $"  ({error})"));
                output.WriteLine($"{$"2 worker actors, batch {PeerBatch}, S = 4",-34} {actors,10:N0} {peer,16:N0} {peerThreads,5} {Ratio(actors),6:F2}");
            }
            return ExitCodes.Success;
        }
        finally
        {
            File.Delete(corpusPath);
        }
    }

    /// <summary>Word ranks drawn with probability ∝ 1/rank from a Philox stream, so the corpus is the same on every run.</summary>
    internal static void WriteZipfCorpus(string path, int words, int vocabulary)
    {
        var cumulative = new double[vocabulary];
        double total = 0;
        for (int r = 0; r < vocabulary; r++) cumulative[r] = total += 1.0 / (r + 1);
        var stream = RandomStream.For(1, RandomPurpose.Synthetic, 2026);
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false));
        var line = new StringBuilder();
        for (int i = 0; i < words; i++)
        {
            double u = stream.Uniform((ulong)i) * total;
            int index = Array.BinarySearch(cumulative, u);
            index = Math.Min(index >= 0 ? index + 1 : ~index, vocabulary - 1);
            line.Append('w').Append(index).Append(i % 20 == 19 ? '\n' : ' ');
            if (line.Length > 1 << 16) { writer.Write(line); line.Clear(); }
        }
        writer.Write(line);
    }

    private static (double WordsPerSecond, int Threads, string? Error) MeasurePeer(Word2VecBenchmarkOptions o, string corpusPath)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "Bench", "torch_word2vec.py");
        (double, int, string?) best = (0, 0, "not measured");
        foreach (int threads in o.PeerThreads)
        {
            var start = new ProcessStartInfo(o.Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { script, corpusPath, $"{threads}", $"{o.Dimension}" }) start.ArgumentList.Add(a);
            try
            {
                using var process = Process.Start(start)!;
                string stdout = process.StandardOutput.ReadToEnd();
                string stderr = process.StandardError.ReadToEnd();
                process.WaitForExit();
                if (process.ExitCode != 0)
                {
                    if (best.Item1 == 0) best = (0, 0, $"PyTorch peer failed: {stderr.Trim().Split('\n').LastOrDefault()}");
                    continue;
                }
                using var json = JsonDocument.Parse(stdout.Trim().Split('\n').Last());
                double rate = json.RootElement.GetProperty("words_per_second").GetDouble();
                if (rate > best.Item1) best = (rate, threads, null);
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                return (0, 0, $"cannot run {o.Python} ({e.Message}); install python3-torch (bash .ci/setup.sh)");
            }
        }
        return best;
    }
}

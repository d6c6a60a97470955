using System.CommandLine;
using System.Text.Json;
using ParallelNet.Cli.Commands;

namespace ParallelNet.Cli.Tests;

/// <summary>
/// word2vec, similar and analogy end to end in-process (the commands are wired here directly, so the test does not
/// depend on the root command's list): train on a corpus with planted categories, then query the checkpoint.
/// </summary>
public sealed class Word2VecCommandTests : IDisposable
{
    private static readonly string[] Animals = ["cat", "dog", "horse", "cow", "sheep", "goat"];
    private static readonly string[] Foods = ["bread", "rice", "apple", "cheese", "soup", "pasta"];
    private static readonly string[] Places = ["park", "garden", "field", "barn", "forest", "meadow"];
    private readonly string _directory = Directory.CreateTempSubdirectory("pn-w2v-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static async Task<(int Exit, string Output)> Run(params string[] args)
    {
        var root = new RootCommand { Word2VecCommand.Create(), SimilarCommand.Create(), AnalogyCommand.Create() };
        var output = new StringWriter();
        int exit = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = new StringWriter(), EnableDefaultExceptionHandler = false });
        return (exit, output.ToString());
    }

    private string WriteCorpus()
    {
        var random = new System.Random(1);
        string Pick(string[] words) => words[random.Next(words.Length)];
        var lines = Enumerable.Range(0, 3000).Select(i => (i % 3) switch
        {
            0 => $"The {Pick(Animals)} eats the {Pick(Foods)} in the {Pick(Places)}.",
            1 => $"My {Pick(Animals)} likes {Pick(Foods)}, and sleeps in the {Pick(Places)}!",
            _ => $"We cook {Pick(Foods)} for the hungry {Pick(Animals)} near the {Pick(Places)}",
        });
        string path = Path.Combine(_directory, "corpus.txt");
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public async Task TrainsThenAnswersSimilarAndAnalogyFromTheCheckpoint()
    {
        string corpus = WriteCorpus(), checkpoint = Path.Combine(_directory, "w2v.safetensors");
        var (exit, output) = await Run("word2vec", "--corpus", corpus, "--checkpoint", checkpoint, "--dim", "20", "--window", "3", "--epochs", "10", "--min-count", "1", "--json");
        Assert.Equal(0, exit);
        var summary = JsonDocument.Parse(output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last()).RootElement;
        Assert.Equal("summary", summary.GetProperty("event").GetString());
        Assert.True(summary.GetProperty("words_per_second").GetDouble() > 0);

        (exit, output) = await Run("similar", "--checkpoint", checkpoint, "--word", "Cat", "--top", "5", "--json");
        Assert.Equal(0, exit);
        var neighbours = JsonDocument.Parse(output).RootElement.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("word").GetString()!).ToArray();
        Assert.Equal(5, neighbours.Length);
        Assert.True(neighbours.Count(Animals.Contains) >= 4, $"neighbours of cat: {string.Join(", ", neighbours)}");

        (exit, output) = await Run("analogy", "--checkpoint", checkpoint, "cat", "dog", "bread", "--top", "3");
        Assert.Equal(0, exit);
        var answers = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, answers.Length);
        Assert.DoesNotContain(answers, a => a.EndsWith(" cat") || a.EndsWith(" dog") || a.EndsWith(" bread"));
    }

    [Fact]
    public async Task WorkerActorsTrainTheSameVectorsForAnyWorkerCount()
    {
        string corpus = WriteCorpus(), one = Path.Combine(_directory, "one.safetensors"), three = Path.Combine(_directory, "three.safetensors");
        string[] common = ["word2vec", "--corpus", corpus, "--dim", "16", "--window", "3", "--epochs", "10", "--lr", "0.1", "--min-count", "1", "--json"];
        var (exit, output) = await Run([.. common, "--checkpoint", one, "--workers", "1"]);
        Assert.Equal(0, exit);
        Assert.Equal(10, output.Split('\n').Count(l => l.Contains("\"epoch\"")));
        (exit, _) = await Run([.. common, "--checkpoint", three, "--workers", "3"]);
        Assert.Equal(0, exit);
        Assert.Equal(File.ReadAllBytes(one), File.ReadAllBytes(three));

        (exit, output) = await Run("similar", "--checkpoint", three, "--word", "cat", "--top", "5", "--json");
        Assert.Equal(0, exit);
        var neighbours = JsonDocument.Parse(output).RootElement.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("word").GetString()!).ToArray();
        Assert.True(neighbours.Count(Animals.Contains) >= 4, $"neighbours of cat: {string.Join(", ", neighbours)}");
    }

    [Fact]
    public async Task UnknownWordsAndWrongCheckpointsAreClearErrors()
    {
        string corpus = WriteCorpus(), checkpoint = Path.Combine(_directory, "w2v.safetensors");
        await Run("word2vec", "--corpus", corpus, "--checkpoint", checkpoint, "--dim", "8", "--epochs", "1", "--min-count", "1");
        var e = await Assert.ThrowsAsync<UsageException>(() => Run("similar", "--checkpoint", checkpoint, "--word", "zebra"));
        Assert.Contains("'zebra' is not in the model's vocabulary", e.Message);
        var bad = await Assert.ThrowsAsync<UsageException>(() => Run("word2vec", "--corpus", corpus, "--checkpoint", checkpoint, "--architecture", "glove"));
        Assert.Contains("--architecture must be skipgram or cbow", bad.Message);
        await Assert.ThrowsAsync<Data.DataException>(() => Run("word2vec", "--corpus", Path.Combine(_directory, "missing.txt"), "--checkpoint", checkpoint));
    }
}

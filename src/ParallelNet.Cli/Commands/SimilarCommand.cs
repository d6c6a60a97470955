using System.CommandLine;
using System.Text.Json;

namespace ParallelNet.Cli.Commands;

/// <summary><c>parallelnet similar --checkpoint FILE --word W [--top 10]</c>: cosine nearest neighbours of a word.</summary>
internal static class SimilarCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<FileInfo>("--checkpoint") { Description = "A model written by 'parallelnet word2vec'.", Required = true };
        var word = new Option<string>("--word") { Description = "The word to look up.", Required = true };
        var top = new Option<int>("--top") { Description = "How many neighbours.", DefaultValueFactory = _ => 10 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var command = new Command("similar", "List the words whose vectors are most cosine-similar to a word's.") { checkpoint, word, top, json };
        command.SetAction(parse =>
        {
            int count = parse.GetValue(top);
            if (count < 1) throw new UsageException($"--top must be at least 1, got {count}.");
            var (vocabulary, model) = Word2VecCheckpoint.Read(parse.GetValue(checkpoint)!.FullName);
            int id = Word2VecCheckpoint.Id(vocabulary, parse.GetValue(word)!);
            var neighbours = model.Nearest(id, count).Select(n => (Word: vocabulary.Words[n.Id], n.Similarity)).ToArray();
            Print(parse.InvocationConfiguration.Output, parse.GetValue(json), neighbours);
            return ExitCodes.Success;
        });
        return command;
    }

    internal static void Print(TextWriter output, bool json, IReadOnlyList<(string Word, float Similarity)> words)
    {
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(new { results = words.Select(w => new { word = w.Word, similarity = w.Similarity }) }));
            return;
        }
        foreach (var (w, similarity) in words) output.WriteLine($"{similarity,8:F4}  {w}");
    }
}

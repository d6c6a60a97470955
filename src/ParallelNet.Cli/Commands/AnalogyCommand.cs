using System.CommandLine;

namespace ParallelNet.Cli.Commands;

/// <summary><c>parallelnet analogy --checkpoint FILE a b c [--top 10]</c>: "a is to b as c is to ?" (nearest to b - a + c).</summary>
internal static class AnalogyCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<FileInfo>("--checkpoint") { Description = "A model written by 'parallelnet word2vec'.", Required = true };
        var words = new Argument<string[]>("words") { Description = "a b c: 'a is to b as c is to ?'", Arity = new ArgumentArity(3, 3) };
        var top = new Option<int>("--top") { Description = "How many answers.", DefaultValueFactory = _ => 10 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var command = new Command("analogy", "Answer 'a is to b as c is to ?' with the words nearest to b - a + c.") { checkpoint, words, top, json };
        command.SetAction(parse =>
        {
            int count = parse.GetValue(top);
            if (count < 1) throw new UsageException($"--top must be at least 1, got {count}.");
            var (vocabulary, model) = Word2VecCheckpoint.Read(parse.GetValue(checkpoint)!.FullName);
            var abc = parse.GetValue(words)!.Select(w => Word2VecCheckpoint.Id(vocabulary, w)).ToArray();
            var answers = model.Analogy(abc[0], abc[1], abc[2], count).Select(n => (Word: vocabulary.Words[n.Id], n.Similarity)).ToArray();
            SimilarCommand.Print(parse.InvocationConfiguration.Output, parse.GetValue(json), answers);
            return ExitCodes.Success;
        });
        return command;
    }
}

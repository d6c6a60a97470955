using System.CommandLine;
using ParallelNet.NN;

namespace ParallelNet.Cli.Commands;

internal static class ModelsCommand
{
    public static Command Create()
    {
        var name = new Argument<string?>("name") { Description = "Print this preset's YAML spec.", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("models", "List the model presets, or print one as a YAML spec to start a --model-file from.") { name };
        command.SetAction(parse =>
        {
            if (parse.GetValue(name) is { } preset)
                parse.InvocationConfiguration.Output.Write(ModelSpec.Preset(preset).ToYaml());
            else
                foreach (var p in ModelSpec.Presets) parse.InvocationConfiguration.Output.WriteLine(p);
            return ExitCodes.Success;
        });
        return command;
    }
}

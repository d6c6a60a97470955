using System.CommandLine.Parsing;
using System.CommandLine;
using ParallelNet.Cli.Commands;
using ParallelNet.Data;
using ParallelNet.Jobs;
using ParallelNet.Rpc;
using ParallelNet.NN;
using ParallelNet.Tensors.OpenCL;
using ParallelNet.Training;
using ParallelNet.Training.Checkpoints;

namespace ParallelNet.Cli;

/// <summary>
/// Exit codes: 0 success, 1 a failed run (bad data, NaN, corrupt checkpoint; a watched job that failed), 2 a usage
/// error, 130 interrupted (or a watched job that was cancelled), and 10 + the gRPC status code when a job server
/// answers with an error (13 INVALID_ARGUMENT, 15 NOT_FOUND, 17 PERMISSION_DENIED, 18 RESOURCE_EXHAUSTED,
/// 19 FAILED_PRECONDITION, 24 UNAVAILABLE, 26 UNAUTHENTICATED...).
/// </summary>
public static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int Usage = 2;
    public const int Interrupted = 130;
    public const int RpcStatusBase = 10;

    public static int ForStatus(StatusCode code) => RpcStatusBase + (int)code;
}

/// <summary>A mistake of the user's (bad flag value, missing file): reported as one line, never a stack trace.</summary>
public sealed class UsageException(string message) : Exception(message);

public static class CliApplication
{
    public static RootCommand BuildRoot() => new("ParallelNet: a data-parallel neural-network trainer.")
    {
        TrainCommand.Create(),
        EvalCommand.Create(),
        DataCommand.Create(),
        BenchCommand.Create(),
        ModelsCommand.Create(),
        DevicesCommand.Create(),
        Word2VecCommand.Create(),
        SimilarCommand.Create(),
        AnalogyCommand.Create(),
        ServeCommand.Create(),
        JobClientCommands.Submit(),
        JobClientCommands.Status(),
        JobClientCommands.Watch(),
        JobClientCommands.Cancel(),
        JobClientCommands.Jobs(),
        JobClientCommands.Download(),
        Commands.Node.NodeCommand.Create(),
        Commands.Node.HealthCommand.Create(),
    };

    /// <summary>"parallelnet bench train" for a subcommand, so the hint names the help that lists the failing option.</summary>
    private static string CommandPath(CommandResult result)
    {
        var names = new Stack<string>();
        for (SymbolResult? r = result; r is CommandResult command; r = command.Parent)
            names.Push(command.Parent is null ? "parallelnet" : command.Command.Name);
        return string.Join(' ', names);
    }

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var parse = BuildRoot().Parse(args);
        if (parse.Errors.Count > 0)
        {
            error.WriteLine($"parallelnet: error: {parse.Errors[0].Message} (see '{CommandPath(parse.CommandResult)} --help')");
            return ExitCodes.Usage;
        }
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (RpcException e)
        {
            error.WriteLine($"parallelnet: error: {StatusName(e.StatusCode)}: {(e.Status.Detail.Length > 0 ? e.Status.Detail : "(no detail)")}");
            return ExitCodes.ForStatus(e.StatusCode);
        }
        catch (Exception e) when (Describe(e) is { } message)
        {
            error.WriteLine($"parallelnet: error: {message}");
            return e is UsageException or ArgumentException or JobSpecException ? ExitCodes.Usage : ExitCodes.Failure;
        }
        catch (OperationCanceledException)
        {
            error.WriteLine("parallelnet: interrupted");
            return ExitCodes.Interrupted;
        }
    }

    /// <summary>UNAUTHENTICATED for StatusCode.Unauthenticated: the names gRPC tools print.</summary>
    private static string StatusName(StatusCode code) => code == StatusCode.OK ? "OK" :
        string.Concat(code.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + c : c.ToString())).ToUpperInvariant();

    /// <summary>The one-line message for errors a user can act on; null for bugs, which keep their stack trace.</summary>
    private static string? Describe(Exception e) => e switch
    {
        UsageException or JobSpecException or ModelSpecException or DataException or CheckpointException or TrainingException or OpenClException => e.Message,
        ArgumentException or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException => e.Message,
        IOException => e.Message,
        AggregateException { InnerExceptions.Count: 1 } a => Describe(a.InnerException!),
        _ => null,
    };
}

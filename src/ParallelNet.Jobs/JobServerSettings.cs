using System.Net;
using ParallelNet.Rpc;

namespace ParallelNet.Jobs;

/// <summary>What a token may do: read (get, list, watch, download) or also change (submit, cancel).</summary>
public enum JobTokenRole { ReadOnly, Admin }

/// <summary>A bearer token of the job API and its role.</summary>
public sealed record JobToken(string Token, JobTokenRole Role);

/// <summary>
/// How the job service runs: where it keeps its state, how many jobs it runs and queues, who may call it,
/// and (for a stand-alone server) where it listens. Read from YAML with <see cref="JobServerSettingsFile.Load"/>.
/// </summary>
public sealed class JobServerSettings
{
    /// <summary>The address to bind (stand-alone server): an IP address, "localhost" or "*".</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>The TCP port (stand-alone server); 0 picks a free one.</summary>
    public int Port { get; set; } = 50051;

    /// <summary>Holds jobs.db and the checkpoints folder unless those are set.</summary>
    public string StateDirectory { get; set; } = DefaultStateDirectory();

    public string? DatabasePath { get; set; }

    public string? CheckpointDirectory { get; set; }

    /// <summary>The MNIST directory jobs use when their spec names none; null = the default cache.</summary>
    public string? DataDirectory { get; set; }

    /// <summary>Jobs trained at the same time (default 1: the workers are shared).</summary>
    public int MaxConcurrentJobs { get; set; } = 1;

    /// <summary>Jobs waiting to run; one more is refused with RESOURCE_EXHAUSTED.</summary>
    public int MaxQueuedJobs { get; set; } = 100;

    /// <summary>The largest request message accepted (stand-alone server).</summary>
    public int MaxReceiveMessageSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>The HTTP/2 server under a stand-alone server: our own (default) or Kestrel.</summary>
    public GrpcServerTransport ServerTransport { get; set; } = GrpcServerTransport.Http2;

    /// <summary>TLS certificate (.pfx) of a stand-alone server; null = h2c.</summary>
    public string? CertificatePath { get; set; }

    public string? CertificatePassword { get; set; }

    /// <summary>Bearer tokens; empty = no authentication, which only a loopback address allows.</summary>
    public IList<JobToken> Tokens { get; } = new List<JobToken>();

    public string ResolvedDatabasePath => DatabasePath ?? Path.Combine(StateDirectory, "jobs.db");

    public string ResolvedCheckpointDirectory => CheckpointDirectory ?? Path.Combine(StateDirectory, "checkpoints");

    public static string DefaultStateDirectory()
    {
        var home = Environment.GetEnvironmentVariable("PARALLELNET_HOME");
        if (!string.IsNullOrEmpty(home)) return Path.Combine(home, "server");
        var data = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify);
        return Path.Combine(string.IsNullOrEmpty(data) ? Path.GetTempPath() : data, "parallelnet", "server");
    }

    /// <summary>True for loopback binds (127.0.0.0/8, ::1, localhost), where running without tokens is allowed.</summary>
    public static bool IsLoopback(string host) =>
        host == "localhost" || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    /// <summary>Throws <see cref="ArgumentException"/> with a message for the operator when a setting is unusable.</summary>
    public void Validate(string boundHost)
    {
        if (MaxConcurrentJobs < 1) throw new ArgumentException($"max_concurrent_jobs must be at least 1, got {MaxConcurrentJobs}.");
        if (MaxQueuedJobs < 1) throw new ArgumentException($"max_queued_jobs must be at least 1, got {MaxQueuedJobs}.");
        if (string.IsNullOrWhiteSpace(StateDirectory)) throw new ArgumentException("state_dir is empty: give a folder for the job database and checkpoints.");
        foreach (var token in Tokens)
            if (string.IsNullOrWhiteSpace(token.Token) || token.Token.Length < 8 || token.Token.Any(c => c is < (char)0x21 or > (char)0x7E))
                throw new ArgumentException("Every job API token must be at least 8 printable ASCII characters without spaces.");
        if (Tokens.Count == 0 && !IsLoopback(boundHost))
            throw new ArgumentException($"The job service would listen on '{boundHost}' without authentication. Configure tokens (tokens: [{{token: ..., role: admin}}] in the config file), or bind to 127.0.0.1.");
    }
}

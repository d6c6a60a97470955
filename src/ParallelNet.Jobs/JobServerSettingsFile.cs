using System.Globalization;
using ParallelNet.Rpc;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ParallelNet.Jobs;

/// <summary>
/// Reads the server's YAML configuration:
/// <code>
/// host: 0.0.0.0
/// port: 50051
/// state_dir: /var/lib/parallelnet
/// data_dir: /data/mnist
/// max_concurrent_jobs: 1
/// max_queued_jobs: 100
/// server_transport: http2   # or kestrel
/// tokens:
///   - { token_env: PARALLELNET_ADMIN_TOKEN, role: admin }
///   - { token: a-read-only-token, role: read }
/// </code>
/// </summary>
public static class JobServerSettingsFile
{
    public static JobServerSettings Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Server config '{path}' does not exist.", path);
        try
        {
            return Parse(File.ReadAllText(path), Path.GetDirectoryName(Path.GetFullPath(path))!);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{path}: {e.Message}", e);
        }
    }

    public static JobServerSettings Parse(string yaml, string baseDirectory)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new ArgumentException($"not valid YAML at line {e.Start.Line}: {e.Message}", e);
        }
        var settings = new JobServerSettings();
        if (stream.Documents.Count == 0) return settings;
        if (stream.Documents[0].RootNode is not YamlMappingNode root) throw new ArgumentException("the server config is a mapping of keys to values.");
        string Relative(string value) => Path.IsPathRooted(value) ? value : Path.GetFullPath(Path.Combine(baseDirectory, value));
        foreach (var (keyNode, value) in root.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? "";
            switch (key)
            {
                case "tokens":
                    ReadTokens(value, settings);
                    break;
                case "host": settings.Host = Scalar(key, value); break;
                case "port": settings.Port = Integer(key, value); break;
                case "state_dir": settings.StateDirectory = Relative(Scalar(key, value)); break;
                case "database": settings.DatabasePath = Relative(Scalar(key, value)); break;
                case "checkpoint_dir": settings.CheckpointDirectory = Relative(Scalar(key, value)); break;
                case "data_dir": settings.DataDirectory = Relative(Scalar(key, value)); break;
                case "max_concurrent_jobs": settings.MaxConcurrentJobs = Integer(key, value); break;
                case "max_queued_jobs": settings.MaxQueuedJobs = Integer(key, value); break;
                case "max_message_bytes": settings.MaxReceiveMessageSize = Integer(key, value); break;
                case "server_transport": settings.ServerTransport = Transport(Scalar(key, value)); break;
                case "certificate": settings.CertificatePath = Relative(Scalar(key, value)); break;
                case "certificate_password": settings.CertificatePassword = Scalar(key, value); break;
                default:
                    throw new ArgumentException($"unknown key '{key}'; use host, port, state_dir, database, checkpoint_dir, data_dir, max_concurrent_jobs, max_queued_jobs, max_message_bytes, server_transport, certificate, certificate_password, tokens.");
            }
        }
        return settings;
    }

    private static void ReadTokens(YamlNode node, JobServerSettings settings)
    {
        if (node is not YamlSequenceNode list) throw new ArgumentException("tokens is a list of {token: ..., role: admin|read} (or token_env: VARIABLE instead of token).");
        foreach (var item in list)
        {
            if (item is not YamlMappingNode entry) throw new ArgumentException("each entry of tokens is a mapping {token: ..., role: admin|read}.");
            string? token = null;
            var role = JobTokenRole.Admin;
            foreach (var (k, v) in entry.Children)
            {
                switch ((k as YamlScalarNode)?.Value)
                {
                    case "token": token = Scalar("token", v); break;
                    case "token_env":
                        var variable = Scalar("token_env", v);
                        token = Environment.GetEnvironmentVariable(variable) is { Length: > 0 } fromEnvironment ? fromEnvironment
                            : throw new ArgumentException($"tokens: environment variable {variable} is not set.");
                        break;
                    case "role":
                        role = Scalar("role", v) switch
                        {
                            "admin" => JobTokenRole.Admin,
                            "read" or "read-only" or "readonly" => JobTokenRole.ReadOnly,
                            var other => throw new ArgumentException($"tokens: unknown role '{other}'; use admin or read."),
                        };
                        break;
                    case var other: throw new ArgumentException($"tokens: unknown key '{other}'; use token, token_env and role.");
                }
            }
            settings.Tokens.Add(new JobToken(token ?? throw new ArgumentException("tokens: an entry has neither token nor token_env."), role));
        }
    }

    private static GrpcServerTransport Transport(string value) => value.ToLowerInvariant() switch
    {
        "http2" => GrpcServerTransport.Http2,
        "kestrel" => GrpcServerTransport.Kestrel,
        _ => throw new ArgumentException($"server_transport must be http2 (our own HTTP/2 server) or kestrel, got '{value}'."),
    };

    private static string Scalar(string key, YamlNode node) =>
        node is YamlScalarNode { Value: { } value } ? value : throw new ArgumentException($"{key} needs a single value.");

    private static int Integer(string key, YamlNode node) =>
        int.TryParse(Scalar(key, node), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value
            : throw new ArgumentException($"{key} must be an integer, got '{Scalar(key, node)}'.");
}

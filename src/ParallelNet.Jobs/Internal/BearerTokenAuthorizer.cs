using System.Security.Cryptography;
using System.Text;
using ParallelNet.Rpc;

namespace ParallelNet.Jobs.Internal;

/// <summary>Checks the "authorization: Bearer TOKEN" metadata of a job API call against the configured tokens.</summary>
internal sealed class BearerTokenAuthorizer(IReadOnlyList<JobToken> tokens)
{
    // Compared as SHA-256 digests in constant time, so neither length nor content leaks through timing.
    private readonly (byte[] Digest, JobTokenRole Role)[] _tokens = tokens.Select(t => (SHA256.HashData(Encoding.UTF8.GetBytes(t.Token)), t.Role)).ToArray();

    public bool Enabled => _tokens.Length > 0;

    /// <summary>UNAUTHENTICATED without a known token; PERMISSION_DENIED when a read-only token asks to change something.</summary>
    public void Check(ServerCallContext context, bool changesJobs)
    {
        if (!Enabled) return;
        var header = context.RequestHeaders.GetValue("authorization");
        if (header is null)
            throw new RpcException(new Status(StatusCode.Unauthenticated, "This job server needs a token: send 'authorization: Bearer <token>' (parallelnet --token T or $PARALLELNET_TOKEN)."));
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            throw new RpcException(new Status(StatusCode.Unauthenticated, "The authorization metadata must be 'Bearer <token>'."));
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(header[scheme.Length..].Trim()));
        JobTokenRole? role = null;
        foreach (var (known, tokenRole) in _tokens)
            if (CryptographicOperations.FixedTimeEquals(known, digest)) role = tokenRole;
        if (role is null) throw new RpcException(new Status(StatusCode.Unauthenticated, "The token is not valid for this job server."));
        if (changesJobs && role != JobTokenRole.Admin)
            throw new RpcException(new Status(StatusCode.PermissionDenied, "This token is read-only: it may get, list, watch and download jobs, not submit or cancel them."));
    }
}

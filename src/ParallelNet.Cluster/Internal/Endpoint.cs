using System.Globalization;
using ParallelNet.Actors;

namespace ParallelNet.Cluster.Internal;

/// <summary>Where a node listens: host and port, the part of its address a dialer needs.</summary>
internal readonly record struct Endpoint(string Host, int Port)
{
    public const string Protocol = "pn.tcp";

    /// <summary>Parses "host:port", "[ipv6]:port", with or without an http:// prefix.</summary>
    public static Endpoint Parse(string text)
    {
        string trimmed = text?.Trim() ?? "";
        if (trimmed.StartsWith("http://", StringComparison.OrdinalIgnoreCase)) trimmed = trimmed[7..].TrimEnd('/');
        int colon = trimmed.LastIndexOf(':');
        if (colon <= 0 || colon == trimmed.Length - 1
            || !int.TryParse(trimmed.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
            throw new FormatException($"\"{text}\" is not a node address; expected host:port, e.g. 127.0.0.1:4500 or coordinator:4500.");
        string host = trimmed[..colon];
        if (host.Contains(':') && !host.StartsWith('[')) host = $"[{host}]";
        return new Endpoint(host, port);
    }

    public static Endpoint Of(Address address) => new(address.Host ?? "", address.Port ?? 0);

    public Uri ToUri() => new($"http://{Host}:{Port.ToString(CultureInfo.InvariantCulture)}");

    public override string ToString() => $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";
}

using System.Globalization;

namespace ParallelNet.Actors;

/// <summary>
/// Which actor system a path belongs to: <c>pn://name</c> in-process, <c>pn.tcp://name@host:port</c>
/// once a remote transport reaches it.
/// </summary>
public sealed record Address(string Protocol, string System, string? Host = null, int? Port = null)
{
    public const string LocalProtocol = "pn";

    public static Address Local(string system) => new(LocalProtocol, system);

    public override string ToString() => Host is null
        ? $"{Protocol}://{System}"
        : $"{Protocol}://{System}@{Host}:{Port?.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>The address of an actor: the system's address plus the chain of names from the root.</summary>
public sealed class ActorPath : IEquatable<ActorPath>
{
    private readonly string text;

    private ActorPath(Address address, ActorPath? parent, string name)
    {
        Address = address;
        Parent = parent;
        Name = name;
        Elements = parent is null ? [] : [.. parent.Elements, name];
        text = $"{address}/{string.Join('/', Elements)}";
    }

    public Address Address { get; }

    /// <summary>Null for the root path.</summary>
    public ActorPath? Parent { get; }

    /// <summary>The last element; empty for the root path.</summary>
    public string Name { get; }

    /// <summary>The names from the root down, e.g. ["user", "coordinator"].</summary>
    public IReadOnlyList<string> Elements { get; }

    public static ActorPath Root(Address address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return new ActorPath(address, null, "");
    }

    public ActorPath Child(string name)
    {
        string? problem = DescribeInvalidElement(name, allowReservedPrefix: true);
        if (problem is not null) throw new InvalidActorNameException($"Cannot extend path [{text}]: {problem}");
        return new ActorPath(Address, this, name);
    }

    public static ActorPath operator /(ActorPath parent, string name)
    {
        ArgumentNullException.ThrowIfNull(parent);
        return parent.Child(name);
    }

    /// <summary>Parses <c>protocol://system[@host:port]/a/b</c>, the format <see cref="ToString"/> writes.</summary>
    public static ActorPath Parse(string text)
    {
        if (TryParse(text, out ActorPath? path, out string? problem)) return path;
        throw new FormatException($"Not an actor path: \"{text}\". {problem} Expected e.g. pn://system/user/name or pn.tcp://system@host:2552/user/name.");
    }

    public static bool TryParse(string? text, out ActorPath? path) => TryParse(text, out path, out _);

    private static bool TryParse(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ActorPath? path, out string? problem)
    {
        path = null;
        if (string.IsNullOrEmpty(text)) { problem = "It is empty."; return false; }
        int schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0) { problem = "It lacks a protocol such as pn://."; return false; }
        string protocol = text[..schemeEnd];
        string rest = text[(schemeEnd + 3)..];
        int slash = rest.IndexOf('/');
        string authority = slash < 0 ? rest : rest[..slash];
        string elements = slash < 0 ? "" : rest[(slash + 1)..];

        Address address;
        int at = authority.IndexOf('@');
        if (at < 0)
        {
            address = new Address(protocol, authority);
        }
        else
        {
            int colon = authority.LastIndexOf(':');
            if (colon < at || !int.TryParse(authority[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
            {
                problem = "Its host part must be host:port with a port from 0 to 65535.";
                return false;
            }
            address = new Address(protocol, authority[..at], authority[(at + 1)..colon], port);
        }
        if (address.System.Length == 0 || (address.Host is not null && address.Host.Length == 0))
        {
            problem = "It names no system or no host.";
            return false;
        }

        ActorPath result = Root(address);
        foreach (string name in elements.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            problem = DescribeInvalidElement(name, allowReservedPrefix: true);
            if (problem is not null) return false;
            result = new ActorPath(address, result, name);
        }
        path = result;
        problem = null;
        return true;
    }

    /// <summary>Null when <paramref name="name"/> may be a path element, else what is wrong with it.</summary>
    internal static string? DescribeInvalidElement(string? name, bool allowReservedPrefix)
    {
        if (string.IsNullOrEmpty(name)) return "an actor name must not be empty.";
        if (!allowReservedPrefix && name[0] == '$') return $"actor name \"{name}\" starts with '$', which is reserved for generated names.";
        foreach (char c in name)
        {
            if (c == '/' || c == '#' || c == '?' || char.IsWhiteSpace(c) || char.IsControl(c))
                return $"actor name \"{name}\" contains '{c}'; use letters, digits and -_.:@&=+,!~*'$;";
        }
        return null;
    }

    public bool Equals(ActorPath? other) => other is not null && string.Equals(text, other.text, StringComparison.Ordinal);
    public override bool Equals(object? obj) => obj is ActorPath other && Equals(other);
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(text);
    public override string ToString() => text;
}

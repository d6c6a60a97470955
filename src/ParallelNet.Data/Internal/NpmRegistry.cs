namespace ParallelNet.Data.Internal;

/// <summary>
/// Which npm registry to download from, without running npm: the machine may point npm at a
/// mirror, and the same mirror is then the one that is reachable.
/// </summary>
internal static class NpmRegistry
{
    public const string Default = "https://registry.npmjs.org/";

    /// <summary>PARALLELNET_NPM_REGISTRY, else NPM_CONFIG_REGISTRY, else the registry= line of ~/.npmrc, else the public registry.</summary>
    public static string Resolve(Func<string, string?> environment, string? npmrcPath)
    {
        foreach (var variable in new[] { "PARALLELNET_NPM_REGISTRY", "NPM_CONFIG_REGISTRY", "npm_config_registry" })
        {
            var value = environment(variable);
            if (!string.IsNullOrWhiteSpace(value)) return WithSlash(value.Trim());
        }
        if (npmrcPath is not null && File.Exists(npmrcPath))
        {
            foreach (var raw in File.ReadLines(npmrcPath))
            {
                var line = raw.Trim();
                if (line.StartsWith('#') || line.StartsWith(';')) continue;
                int equals = line.IndexOf('=');
                if (equals < 0 || line[..equals].Trim() != "registry") continue;
                var value = line[(equals + 1)..].Trim().Trim('"');
                if (value.Length > 0) return WithSlash(value);
            }
        }
        return Default;
    }

    public static string Resolve() =>
        Resolve(Environment.GetEnvironmentVariable,
            Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".npmrc"));

    /// <summary>The tarball address of a package version (the registry's standard layout).</summary>
    public static Uri TarballUri(string registry, string package, string version) =>
        new(new Uri(WithSlash(registry)), $"{package}/-/{package}-{version}.tgz");

    private static string WithSlash(string url) => url.EndsWith('/') ? url : url + "/";
}

namespace ParallelNet.NN.Initializers;

/// <summary>How the weights of a Linear or Conv2d layer start (spec option <c>init</c>).</summary>
public enum InitScheme
{
    /// <summary>
    /// PyTorch's default for nn.Linear and nn.Conv2d: kaiming_uniform(a = sqrt 5), i.e. weights uniform in
    /// ±1/sqrt(fan_in), and the bias uniform in ±1/sqrt(fan_in). Spec name <c>pytorch</c>.
    /// </summary>
    PyTorch,
    /// <summary>Glorot/Xavier uniform: ±sqrt(6 / (fan_in + fan_out)); bias zero. Spec name <c>xavier</c>.</summary>
    Xavier,
    /// <summary>He/Kaiming normal for ReLU: N(0, 2 / fan_in); bias zero. Spec name <c>he</c>.</summary>
    He,
    /// <summary>He/Kaiming uniform for ReLU: ±sqrt(6 / fan_in); bias zero. Spec name <c>he_uniform</c>.</summary>
    HeUniform,
    /// <summary>Small random numbers: N(0, 0.01²); bias zero. Spec name <c>normal</c>.</summary>
    SmallNormal,
    /// <summary>All zeros (fine for linear and logistic regression, never for hidden layers). Spec name <c>zeros</c>.</summary>
    Zeros,
}

/// <summary>Spec names of <see cref="InitScheme"/>.</summary>
public static class InitSchemeNames
{
    private static readonly (string Name, InitScheme Scheme)[] Table =
    [
        ("pytorch", InitScheme.PyTorch), ("xavier", InitScheme.Xavier), ("he", InitScheme.He),
        ("he_uniform", InitScheme.HeUniform), ("normal", InitScheme.SmallNormal), ("zeros", InitScheme.Zeros),
    ];

    public static IReadOnlyList<string> All => Table.Select(t => t.Name).ToArray();

    public static bool TryParse(string name, out InitScheme scheme)
    {
        foreach (var (n, s) in Table)
        {
            if (n == name) { scheme = s; return true; }
        }
        scheme = default;
        return false;
    }

    public static string ToName(InitScheme scheme) => Table.First(t => t.Scheme == scheme).Name;
}

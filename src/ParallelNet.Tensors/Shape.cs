namespace ParallelNet.Tensors;

/// <summary>An immutable tensor shape, row-major (the last dimension is contiguous).</summary>
public readonly struct Shape : IEquatable<Shape>
{
    private readonly int[]? _dims;

    public Shape(params int[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        foreach (var d in dims)
        {
            if (d < 0) throw new ArgumentException($"Shape dimensions must be non-negative, got [{string.Join(", ", dims)}].", nameof(dims));
        }
        _dims = (int[])dims.Clone();
    }

    public int Rank => _dims?.Length ?? 0;
    public int this[int axis] => axis < 0 ? Dims[Rank + axis] : Dims[axis];
    public ReadOnlySpan<int> Dims => _dims ?? [];

    /// <summary>Number of elements; 1 for a scalar (rank 0).</summary>
    public int Size
    {
        get
        {
            long size = 1;
            foreach (var d in Dims) size *= d;
            if (size > int.MaxValue) throw new InvalidOperationException($"Shape {this} has more than int.MaxValue elements.");
            return (int)size;
        }
    }

    /// <summary>Shape with a new leading (batch) dimension.</summary>
    public Shape Prepend(int leading)
    {
        var dims = new int[Rank + 1];
        dims[0] = leading;
        Dims.CopyTo(dims.AsSpan(1));
        return new Shape(dims);
    }

    /// <summary>Shape without its leading dimension.</summary>
    public Shape DropLeading() => Rank == 0 ? throw new InvalidOperationException("A scalar shape has no leading dimension.") : new Shape(Dims[1..].ToArray());

    /// <summary>Same shape with the leading dimension replaced.</summary>
    public Shape WithLeading(int leading)
    {
        var dims = Dims.ToArray();
        dims[0] = leading;
        return new Shape(dims);
    }

    public int[] ToArray() => Dims.ToArray();
    public bool Equals(Shape other) => Dims.SequenceEqual(other.Dims);
    public override bool Equals(object? obj) => obj is Shape s && Equals(s);
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var d in Dims) h.Add(d);
        return h.ToHashCode();
    }
    public static bool operator ==(Shape a, Shape b) => a.Equals(b);
    public static bool operator !=(Shape a, Shape b) => !a.Equals(b);
    public override string ToString() => "[" + string.Join(", ", Dims.ToArray()) + "]";
}

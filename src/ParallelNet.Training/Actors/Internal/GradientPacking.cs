using System.Runtime.InteropServices;
using ParallelNet.NN;

namespace ParallelNet.Training.Actors.Internal;

/// <summary>
/// How a block's gradient travels from a worker to the parameter server: the dense slots packed back to back
/// in layout order, and each row-sparse slot (an embedding table) as the rows with any non-zero bit. Unpacking
/// rebuilds the full gradient bit for bit (an untouched row is +0 in the dense sum too), so the parameter
/// server's tree combination and optimizer see exactly what the single-process step sees.
/// </summary>
internal sealed class GradientPacking
{
    private readonly (int Offset, int Length)[] _denseRuns;
    private readonly ParameterInfo[] _sparse;
    private readonly int _totalSize;

    public GradientPacking(ParameterLayout layout)
    {
        var runs = new List<(int Offset, int Length)>();
        foreach (var p in layout.Parameters.Where(p => !p.RowSparse && p.Length > 0))
        {
            if (runs.Count > 0 && runs[^1].Offset + runs[^1].Length == p.Offset) runs[^1] = (runs[^1].Offset, runs[^1].Length + p.Length);
            else runs.Add((p.Offset, p.Length));
        }
        _denseRuns = [.. runs];
        _sparse = layout.Parameters.Where(p => p.RowSparse).ToArray();
        _totalSize = layout.TotalSize;
        DenseLength = _sparse.Length == 0 ? _totalSize : runs.Sum(r => r.Length);
    }

    /// <summary>Floats of the dense part of a packed block.</summary>
    public int DenseLength { get; }

    public bool HasSparse => _sparse.Length > 0;

    public void PackDense(ReadOnlySpan<float> full, Span<float> dense)
    {
        if (!HasSparse)
        {
            full[.._totalSize].CopyTo(dense);
            return;
        }
        int at = 0;
        foreach (var (offset, length) in _denseRuns)
        {
            full.Slice(offset, length).CopyTo(dense.Slice(at, length));
            at += length;
        }
    }

    public SparseGradient[] PackSparse(ReadOnlySpan<float> full)
    {
        if (!HasSparse) return [];
        var packed = new SparseGradient[_sparse.Length];
        var rows = new List<int>();
        for (int k = 0; k < _sparse.Length; k++)
        {
            var p = _sparse[k];
            int width = RowWidth(p);
            var table = full.Slice(p.Offset, p.Length);
            rows.Clear();
            for (int r = 0; r < p.Length / width; r++)
            {
                // Bits, not values: a -0 stays -0 on the other side.
                if (MemoryMarshal.Cast<float, int>(table.Slice(r * width, width)).ContainsAnyExcept(0)) rows.Add(r);
            }
            var values = GC.AllocateUninitializedArray<float>(rows.Count * width);
            for (int i = 0; i < rows.Count; i++) table.Slice(rows[i] * width, width).CopyTo(values.AsSpan(i * width, width));
            packed[k] = new SparseGradient(p.Name, width, [.. rows], values);
        }
        return packed;
    }

    /// <summary>Rebuilds the full gradient; throws a <see cref="TrainingException"/> for a packed block that does not fit this layout.</summary>
    public void Unpack(ReadOnlySpan<float> dense, IReadOnlyList<SparseGradient> sparse, Span<float> full)
    {
        if (dense.Length != DenseLength)
            throw new TrainingException($"A gradient block carries {dense.Length} dense values but the model has {DenseLength}.");
        if (sparse.Count != _sparse.Length)
            throw new TrainingException($"A gradient block carries {sparse.Count} sparse tables but the model has {_sparse.Length}.");
        if (!HasSparse)
        {
            dense.CopyTo(full);
            return;
        }
        int at = 0;
        foreach (var (offset, length) in _denseRuns)
        {
            dense.Slice(at, length).CopyTo(full.Slice(offset, length));
            at += length;
        }
        for (int k = 0; k < _sparse.Length; k++)
        {
            var p = _sparse[k];
            var g = sparse[k];
            int width = RowWidth(p), rowCount = p.Length / width;
            if (g is null || g.Parameter != p.Name || g.RowWidth != width || g.Rows is null || g.Values is null || (long)g.Rows.Length * width != g.Values.Length)
                throw new TrainingException($"The sparse gradient of '{p.Name}' (rows of {width}) arrived as '{g?.Parameter}' with {g?.Rows?.Length} rows of {g?.RowWidth} and {g?.Values?.Length} values.");
            var table = full.Slice(p.Offset, p.Length);
            table.Clear();
            int previous = -1;
            for (int i = 0; i < g.Rows.Length; i++)
            {
                int r = g.Rows[i];
                if (r <= previous || r >= rowCount)
                    throw new TrainingException($"The sparse gradient of '{p.Name}' lists row {r} after row {previous}; rows must be increasing and below {rowCount}.");
                g.Values.AsSpan(i * width, width).CopyTo(table.Slice(r * width, width));
                previous = r;
            }
        }
    }

    private static int RowWidth(ParameterInfo p) => p.Shape.Rank == 0 || p.Shape[0] == 0 ? Math.Max(1, p.Length) : p.Length / p.Shape[0];
}

namespace ParallelNet.Training.Actors;

/// <summary>
/// The gradient of one row-sparse parameter (an embedding table) in a worker's block: only the rows its shards
/// touched, <paramref name="Rows"/> strictly increasing, their <paramref name="RowWidth"/> floats each in
/// <paramref name="Values"/> (row-major). Every other row of the table has a zero gradient, so the parameter
/// server rebuilds the dense block exactly and applies the usual optimizer to it.
/// </summary>
public sealed record SparseGradient(string Parameter, int RowWidth, int[] Rows, float[] Values);

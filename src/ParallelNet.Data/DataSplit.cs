namespace ParallelNet.Data;

/// <summary>
/// A training set, a test set, and the standardization that was computed on the training set and
/// already applied to both (it is stored with the model so new inputs can be treated the same way).
/// </summary>
public sealed record DataSplit(Dataset Train, Dataset Test, Normalization Normalization);

namespace ParallelNet.NN;

/// <summary>A model spec that cannot be built; the message names the layer index and the bad option.</summary>
public sealed class ModelSpecException(string message, Exception? inner = null) : Exception(message, inner);

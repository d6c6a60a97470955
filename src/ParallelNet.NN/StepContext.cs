namespace ParallelNet.NN;

/// <summary>
/// Where a training shard sits in the job: dropout and RReLU streams are keyed by (Seed, Epoch, Step,
/// layer index) and the shard's first sample is sample <see cref="FirstSample"/> of the GLOBAL batch,
/// so a sample's random mask does not depend on which worker computes it.
/// </summary>
public readonly record struct StepContext(ulong Seed, int Epoch, long Step, long FirstSample);

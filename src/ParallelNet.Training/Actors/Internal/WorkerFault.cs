namespace ParallelNet.Training.Actors.Internal;

internal enum WorkerFaultKind
{
    /// <summary>The worker throws in the middle of its block (its supervisor stops it).</summary>
    Throw,
    /// <summary>The worker stops itself in the middle of its block without replying.</summary>
    Stop,
    /// <summary>The worker swallows the block and never replies (only the step timeout notices).</summary>
    Hang,
}

/// <summary>A fault the tests inject: worker <paramref name="Worker"/> (0-based) misbehaves on its first block of <paramref name="Step"/>.</summary>
internal sealed record WorkerFault(int Worker, long Step, WorkerFaultKind Kind);

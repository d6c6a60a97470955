using System.Collections.Concurrent;

namespace ParallelNet.Tensors.Cpu.Internal;

/// <summary>
/// Scratch buffers (im2col columns) kept per backend instance, so steady-state training allocates
/// nothing and concurrent callers of one instance never share a buffer.
/// </summary>
internal sealed class WorkspacePool
{
    private readonly ConcurrentBag<float[]> _free = new();

    public float[] Rent(int length)
    {
        if (_free.TryTake(out var buffer) && buffer.Length >= length) return buffer;
        // A too-small buffer is dropped: shapes grow to their steady state within the first step.
        return new float[length];
    }

    public void Return(float[] buffer) => _free.Add(buffer);
}

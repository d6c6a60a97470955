namespace ParallelNet.Tensors.Cpu.Internal;

/// <summary>
/// Scratch buffers (im2col columns, partial sums) kept per backend instance, so steady-state training
/// allocates nothing and concurrent callers of one instance never share a buffer. A request takes the
/// smallest free buffer that is large enough, so the differently sized workspaces of the layers of one
/// model do not keep displacing each other.
/// </summary>
internal sealed class WorkspacePool
{
    private readonly Lock _gate = new();
    private readonly List<float[]> _free = [];

    public float[] Rent(int length)
    {
        lock (_gate)
        {
            int best = -1;
            for (int i = 0; i < _free.Count; i++)
            {
                if (_free[i].Length >= length && (best < 0 || _free[i].Length < _free[best].Length)) best = i;
            }
            if (best >= 0)
            {
                var buffer = _free[best];
                _free[best] = _free[^1];
                _free.RemoveAt(_free.Count - 1);
                return buffer;
            }
        }
        return new float[length];
    }

    public void Return(float[] buffer)
    {
        lock (_gate) _free.Add(buffer);
    }
}

using ParallelNet.Tensors;

namespace ParallelNet.NN.Optimizers.Internal;

/// <summary>
/// Views of every layout slot over one flat buffer, rebuilt only when the caller hands in a different
/// buffer, so the steady-state optimizer step allocates nothing.
/// </summary>
internal sealed class LayoutViews(ParameterLayout layout)
{
    private Tensor? _buffer;
    private Tensor[] _views = [];

    public IReadOnlyList<Tensor> Over(Tensor buffer)
    {
        if (!ReferenceEquals(buffer, _buffer))
        {
            var views = new Tensor[layout.Parameters.Count];
            for (int i = 0; i < views.Length; i++)
            {
                var p = layout.Parameters[i];
                views[i] = buffer.View(p.Offset, p.Shape);
            }
            _views = views;
            _buffer = buffer;
        }
        return _views;
    }
}

using ParallelNet.Tensors;

namespace ParallelNet.NN.Layers;

/// <summary>torch.nn.RNN with the tanh non-linearity (one layer, batch_first): h_t = tanh(x W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh), h starts at zero.</summary>
internal sealed class Rnn(Shape inputShape, int hidden, bool returnSequences, int truncate)
    : Recurrent(inputShape, hidden, 1, returnSequences, truncate)
{
    protected override void BindCell(ICompute compute, int maxBatch)
    {
    }

    protected override void ResizeCell(int rows)
    {
    }

    protected override void ResetState()
    {
    }

    protected override void StepForward(int t) => Compute.ActivationForward(ActivationKind.Tanh, 0f, Gates[t], HiddenStates[t + 1]);

    protected override void ResetStateGradient()
    {
    }

    // The hidden state is the whole state: the gradient carried back is dL/dh alone.
    protected override void StepBackward(int t, Tensor hiddenGradient, Tensor gateGradients)
        => Compute.ActivationBackward(ActivationKind.Tanh, 0f, Gates[t], HiddenStates[t + 1], hiddenGradient, gateGradients);
}

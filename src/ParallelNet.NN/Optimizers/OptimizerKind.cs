namespace ParallelNet.NN.Optimizers;

/// <summary>The update rule. Each one matches its torch.optim namesake (PyTorch 1.13).</summary>
public enum OptimizerKind
{
    /// <summary>torch.optim.SGD: optional momentum, Nesterov and (L2-style) weight decay.</summary>
    Sgd,
    /// <summary>torch.optim.Adam: weight decay is added to the gradient.</summary>
    Adam,
    /// <summary>torch.optim.AdamW: weight decay is decoupled, w *= 1 - lr * wd.</summary>
    AdamW,
}

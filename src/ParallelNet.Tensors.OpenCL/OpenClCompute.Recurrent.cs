using ParallelNet.Tensors.Cpu;

namespace ParallelNet.Tensors.OpenCL;

/// <summary>
/// Recurrent and embedding ops run on the host for now: the tensors are downloaded, the CPU
/// backend's kernels run, and every argument is uploaded back. Correct (CPU-identical) but slow;
/// OpenCL C kernels for them are a later step.
/// </summary>
public sealed partial class OpenClCompute
{
    private readonly CpuCompute _host = new(1);

    public void EmbeddingForward(Tensor indices, Tensor table, Tensor y) =>
        OnHost(t => _host.EmbeddingForward(t[0], t[1], t[2]), indices, table, y);

    public void EmbeddingBackward(Tensor indices, Tensor dy, Tensor dtable) =>
        OnHost(t => _host.EmbeddingBackward(t[0], t[1], t[2]), indices, dy, dtable);

    public void SwapLeadingAxes(Tensor x, Tensor y, int outer, int middle) =>
        OnHost(t => _host.SwapLeadingAxes(t[0], t[1], outer, middle), x, y);

    public void LstmCellForward(Tensor gates, Tensor previousCell, Tensor cell, Tensor tanhCell, Tensor hidden) =>
        OnHost(t => _host.LstmCellForward(t[0], t[1], t[2], t[3], t[4]), gates, previousCell, cell, tanhCell, hidden);

    public void LstmCellBackward(Tensor gates, Tensor previousCell, Tensor tanhCell, Tensor hiddenGradient, Tensor cellGradient, Tensor gateGradients) =>
        OnHost(t => _host.LstmCellBackward(t[0], t[1], t[2], t[3], t[4], t[5]), gates, previousCell, tanhCell, hiddenGradient, cellGradient, gateGradients);

    private void OnHost(Action<Tensor[]> operation, params Tensor[] deviceTensors)
    {
        var host = new Tensor[deviceTensors.Length];
        for (int i = 0; i < host.Length; i++)
        {
            host[i] = Tensor.Zeros(deviceTensors[i].Shape);
            Download(deviceTensors[i], host[i].Span);
        }
        operation(host);
        for (int i = 0; i < host.Length; i++) Upload(host[i].Span, deviceTensors[i]);
    }
}

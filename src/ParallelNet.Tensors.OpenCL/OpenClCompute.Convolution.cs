using ParallelNet.Tensors.Cpu.Kernels;
using ParallelNet.Tensors.OpenCL.Internal;

namespace ParallelNet.Tensors.OpenCL;

public sealed partial class OpenClCompute
{
    /// <summary>
    /// Floats of im2col columns plus GEMM product one convolution chunk may use (64 MiB); larger batches run in
    /// several chunks. Settable so tests can force chunking on small shapes.
    /// </summary>
    internal long ConvolutionWorkspaceFloats { get; set; } = 1L << 24;

    // ---- convolution: im2col over a chunk of samples, one CLBlast GEMM per chunk ----

    public void Conv2dForward(Tensor x, Tensor weight, Tensor? bias, Tensor y, ConvGeometry g, int outChannels)
    {
        const string op = "Conv2dForward";
        int samples = Convolution.Validate(op, g, outChannels, x.Length, weight.Length, y.Length, bias?.Length ?? -1);
        var (patch, plane, inputSize, chunk) = ConvolutionShape(g, outChannels, samples);
        lock (_sync)
        {
            Buffer(x, op); Buffer(y, op);
            var w = Buffer(weight, op);
            var biasArg = bias is null ? Arg(y, op) : Arg(bias, op);
            for (int first = 0; first < samples; first += chunk)
            {
                int count = Math.Min(chunk, samples - first);
                var columns = ScratchBuffer(Scratch.Columns, (long)patch * count * plane * sizeof(float));
                var product = ScratchBuffer(Scratch.Product, (long)outChannels * count * plane * sizeof(float));
                Im2Col(x.View(first * inputSize, new Shape(count * inputSize)), columns, count, g);
                Sgemm(false, false, outChannels, count * plane, patch, 1f, w, weight.Offset, columns, 0, 0f, product, 0);
                _runtime.Launch("scatter_chunk", (long)count * outChannels * plane, product,
                    KernelArg.Of(y.View(first * outChannels * plane, new Shape(count * outChannels * plane))), biasArg, bias is not null, outChannels, count, plane);
            }
        }
    }

    public void Conv2dBackwardData(Tensor dy, Tensor weight, Tensor dx, ConvGeometry g, int outChannels)
    {
        const string op = "Conv2dBackwardData";
        int samples = Convolution.Validate(op, g, outChannels, dx.Length, weight.Length, dy.Length, -1);
        var (patch, plane, inputSize, chunk) = ConvolutionShape(g, outChannels, samples);
        lock (_sync)
        {
            Buffer(dy, op); Buffer(dx, op);
            var w = Buffer(weight, op);
            for (int first = 0; first < samples; first += chunk)
            {
                int count = Math.Min(chunk, samples - first);
                var columns = ScratchBuffer(Scratch.Columns, (long)patch * count * plane * sizeof(float));
                var product = ScratchBuffer(Scratch.Product, (long)outChannels * count * plane * sizeof(float));
                Gather(dy.View(first * outChannels * plane, new Shape(count * outChannels * plane)), product, outChannels, count, plane);
                Sgemm(true, false, patch, count * plane, outChannels, 1f, w, weight.Offset, product, 0, 0f, columns, 0);
                _runtime.Launch("col2im_chunk", (long)count * inputSize, columns, KernelArg.Of(dx.View(first * inputSize, new Shape(count * inputSize))),
                    count, g.Channels, g.Height, g.Width, g.KernelHeight, g.KernelWidth, g.StrideHeight, g.StrideWidth, g.PadHeight, g.PadWidth, g.OutHeight, g.OutWidth);
            }
        }
    }

    /// <summary>dweight += Σ over chunks (ascending) of dy_chunk @ columns_chunkᵀ, whose k runs over the chunk's samples in order.</summary>
    public void Conv2dBackwardFilter(Tensor x, Tensor dy, Tensor dweight, Tensor? dbias, ConvGeometry g, int outChannels)
    {
        const string op = "Conv2dBackwardFilter";
        int samples = Convolution.Validate(op, g, outChannels, x.Length, dweight.Length, dy.Length, dbias?.Length ?? -1);
        var (patch, plane, inputSize, chunk) = ConvolutionShape(g, outChannels, samples);
        lock (_sync)
        {
            Buffer(x, op); Buffer(dy, op);
            var dw = Buffer(dweight, op);
            for (int first = 0; first < samples; first += chunk)
            {
                int count = Math.Min(chunk, samples - first);
                var columns = ScratchBuffer(Scratch.Columns, (long)patch * count * plane * sizeof(float));
                var product = ScratchBuffer(Scratch.Product, (long)outChannels * count * plane * sizeof(float));
                Im2Col(x.View(first * inputSize, new Shape(count * inputSize)), columns, count, g);
                Gather(dy.View(first * outChannels * plane, new Shape(count * outChannels * plane)), product, outChannels, count, plane);
                Sgemm(false, true, outChannels, patch, count * plane, 1f, product, 0, columns, 0, 1f, dw, dweight.Offset);
            }
            if (dbias is not null && samples > 0) ChannelSums(op, dy, dbias, outChannels, plane);
        }
    }

    private (int Patch, int Plane, int InputSize, int Chunk) ConvolutionShape(ConvGeometry g, int outChannels, int samples)
    {
        int patch = g.Channels * g.KernelHeight * g.KernelWidth, plane = g.OutHeight * g.OutWidth;
        long perSample = (long)(patch + outChannels) * plane;
        int chunk = (int)Math.Clamp(ConvolutionWorkspaceFloats / Math.Max(perSample, 1), 1, Math.Max(samples, 1));
        return (patch, plane, g.Channels * g.Height * g.Width, chunk);
    }

    private void Im2Col(Tensor chunkInput, DeviceBuffer columns, int count, ConvGeometry g) =>
        _runtime.Launch("im2col_chunk", (long)g.Channels * g.KernelHeight * g.KernelWidth * count * g.OutHeight * g.OutWidth,
            KernelArg.Of(chunkInput), columns, count,
            g.Channels, g.Height, g.Width, g.KernelHeight, g.KernelWidth, g.StrideHeight, g.StrideWidth, g.PadHeight, g.PadWidth, g.OutHeight, g.OutWidth);

    private void Gather(Tensor chunkGradient, DeviceBuffer product, int outChannels, int count, int plane) =>
        _runtime.Launch("gather_chunk", (long)count * outChannels * plane, KernelArg.Of(chunkGradient), product, outChannels, count, plane);

    // ---- pooling: one work-item per output (forward) or per input element (backward, gathering its windows in ascending order) ----

    public void MaxPool2dForward(Tensor x, Tensor y, ConvGeometry g)
    {
        const string op = "MaxPool2dForward";
        Pooling.Validate(op, g, x.Length, y.Length);
        lock (_sync) _runtime.Launch("max_pool_forward", y.Length, Arg(x, op), Arg(y, op), g.Height, g.Width, g.KernelHeight, g.KernelWidth,
            g.StrideHeight, g.StrideWidth, g.PadHeight, g.PadWidth, g.OutHeight, g.OutWidth);
    }

    public void MaxPool2dBackward(Tensor x, Tensor dy, Tensor dx, ConvGeometry g)
    {
        const string op = "MaxPool2dBackward";
        Pooling.Validate(op, g, x.Length, dy.Length);
        Checks.SameLength(op, x.Length, dx.Length, "x", "dx");
        lock (_sync) _runtime.Launch("max_pool_backward", dx.Length, Arg(x, op), Arg(dy, op), Arg(dx, op), g.Height, g.Width, g.KernelHeight, g.KernelWidth,
            g.StrideHeight, g.StrideWidth, g.PadHeight, g.PadWidth, g.OutHeight, g.OutWidth);
    }

    public void AvgPool2dForward(Tensor x, Tensor y, ConvGeometry g)
    {
        const string op = "AvgPool2dForward";
        Pooling.Validate(op, g, x.Length, y.Length);
        lock (_sync) _runtime.Launch("avg_pool_forward", y.Length, Arg(x, op), Arg(y, op), 1f / (g.KernelHeight * g.KernelWidth), g.Height, g.Width,
            g.KernelHeight, g.KernelWidth, g.StrideHeight, g.StrideWidth, g.PadHeight, g.PadWidth, g.OutHeight, g.OutWidth);
    }

    public void AvgPool2dBackward(Tensor dy, Tensor dx, ConvGeometry g)
    {
        const string op = "AvgPool2dBackward";
        Pooling.Validate(op, g, dx.Length, dy.Length);
        lock (_sync) _runtime.Launch("avg_pool_backward", dx.Length, Arg(dy, op), Arg(dx, op), 1f / (g.KernelHeight * g.KernelWidth), g.Height, g.Width,
            g.KernelHeight, g.KernelWidth, g.StrideHeight, g.StrideWidth, g.PadHeight, g.PadWidth, g.OutHeight, g.OutWidth);
    }
}

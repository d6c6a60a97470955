using ParallelNet.Tensors.Random;

namespace ParallelNet.Tensors;

public enum ActivationKind
{
    Identity,
    Sigmoid,
    Tanh,
    Relu,
    /// <summary>y = x for x &gt; 0, alpha * x otherwise.</summary>
    LeakyRelu,
    /// <summary>Heaviside step (perceptron): y = 1 for x &gt;= 0, else 0; its derivative is taken as 0.</summary>
    Step,
}

/// <summary>Geometry of a 2-D convolution or pooling window over NCHW tensors.</summary>
public readonly record struct ConvGeometry(
    int Channels, int Height, int Width,
    int KernelHeight, int KernelWidth,
    int StrideHeight, int StrideWidth,
    int PadHeight, int PadWidth)
{
    public int OutHeight => (Height + 2 * PadHeight - KernelHeight) / StrideHeight + 1;
    public int OutWidth => (Width + 2 * PadWidth - KernelWidth) / StrideWidth + 1;

    /// <summary>Throws a message that names the bad field, e.g. a kernel larger than the padded input.</summary>
    public void Validate()
    {
        if (Channels <= 0 || Height <= 0 || Width <= 0) throw new ArgumentException($"Convolution input must be non-empty, got C={Channels} H={Height} W={Width}.");
        if (KernelHeight <= 0 || KernelWidth <= 0) throw new ArgumentException($"Kernel size must be positive, got {KernelHeight}x{KernelWidth}.");
        if (StrideHeight <= 0 || StrideWidth <= 0) throw new ArgumentException($"Stride must be positive, got {StrideHeight}x{StrideWidth}.");
        if (PadHeight < 0 || PadWidth < 0) throw new ArgumentException($"Padding must be non-negative, got {PadHeight}x{PadWidth}.");
        if (Height + 2 * PadHeight < KernelHeight || Width + 2 * PadWidth < KernelWidth)
            throw new ArgumentException($"Kernel {KernelHeight}x{KernelWidth} is larger than the padded input {Height + 2 * PadHeight}x{Width + 2 * PadWidth}.");
    }
}

/// <summary>
/// The compute-backend seam. Layers, losses and optimizers call only these operations, so a GPU
/// backend implements this interface without touching them. All tensors are contiguous, row-major,
/// images NCHW, and belong to this backend (made by <see cref="Allocate"/> or views of such).
///
/// Determinism contract: for the same inputs every operation gives bitwise the same result whatever
/// the thread count, and every reduction over samples (the leading axis) runs in ascending sample
/// order. Operations named "Accumulate" add into their output; the others overwrite it.
/// </summary>
public interface ICompute
{
    string Name { get; }

    // ---- memory -------------------------------------------------------------------------------
    /// <summary>A new zero-filled tensor on this backend.</summary>
    Tensor Allocate(Shape shape);
    void Upload(ReadOnlySpan<float> source, Tensor destination);
    void Download(Tensor source, Span<float> destination);
    void Fill(Tensor x, float value);
    void Copy(Tensor source, Tensor destination);

    // ---- linear algebra ---------------------------------------------------------------------
    /// <summary>c[m,n] = alpha * op(a) @ op(b) + beta * c; op(a) is [m,k], op(b) is [k,n]; a, b, c row-major.</summary>
    void Gemm(bool transposeA, bool transposeB, int m, int n, int k, float alpha, Tensor a, Tensor b, float beta, Tensor c);

    /// <summary>
    /// c = alpha * a @ op(b) + beta * c where the rows of a and c are consecutive blocks (virtual shards) of
    /// <paramref name="blockRows"/> rows: bitwise the same as one <see cref="Gemm"/> per block, so a backend may run
    /// the blocks as one product wherever that leaves every element's arithmetic as it is.
    /// </summary>
    void GemmRowBlocks(ReadOnlySpan<int> blockRows, bool transposeB, int n, int k, float alpha, Tensor a, Tensor b, float beta, Tensor c)
    {
        int start = 0;
        foreach (int rows in blockRows)
        {
            Gemm(false, transposeB, rows, n, k, alpha, a.View(start * k, new Shape(rows, k)), b, beta, c.View(start * n, new Shape(rows, n)));
            start += rows;
        }
    }

    /// <summary>
    /// True when <see cref="GemmTransposedBlockTree"/> needs no per-block buffers; otherwise a caller that can keep
    /// per-block buffers of its own across calls is better off with those.
    /// </summary>
    bool FusesBlockTreeProducts => false;

    /// <summary>
    /// c[m,n] = the <see cref="AddTree"/> sum over consecutive row blocks s (a power-of-two count) of a_s^T @ b_s, where
    /// a [rows, m] and b [rows, n] are cut into blocks of <paramref name="blockRows"/>[s] rows: bitwise the same as one
    /// Gemm(transposeA: true, beta: 1) per block into a zeroed buffer of its own followed by AddTree over those buffers
    /// (a layer's weight gradient summed over virtual shards). Overwrites c. This default allocates the per-block
    /// buffers on every call; a backend that computes it without them says so with <see cref="FusesBlockTreeProducts"/>.
    /// </summary>
    void GemmTransposedBlockTree(ReadOnlySpan<int> blockRows, int m, int n, Tensor a, Tensor b, Tensor c)
    {
        var buffers = new Tensor[blockRows.Length];
        int start = 0;
        for (int s = 0; s < buffers.Length; s++)
        {
            buffers[s] = Allocate(new Shape(m, n));
            if (blockRows[s] > 0)
                Gemm(true, false, m, n, blockRows[s], 1f, a.View(start * m, new Shape(blockRows[s], m)), b.View(start * n, new Shape(blockRows[s], n)), 1f, buffers[s]);
            start += blockRows[s];
        }
        AddTree(buffers, 0, buffers.Length);
        Copy(buffers[0], c.View(0, new Shape(m, n)));
    }

    // ---- elementwise (same length unless stated) --------------------------------------------
    /// <summary>y = a + b.</summary>
    void Add(Tensor a, Tensor b, Tensor y);
    /// <summary>
    /// The fixed binary tree sum of buffers[first .. first+count), count a power of two: level by level,
    /// buffers[left] += buffers[left + width], so the sum lands in buffers[first] and the other left buffers hold
    /// partial sums. A backend may run the levels chunk by chunk (each element sees the same adds in the same order).
    /// </summary>
    void AddTree(IReadOnlyList<Tensor> buffers, int first, int count)
    {
        for (int width = 1; width < count; width *= 2)
        {
            for (int left = first; left < first + count; left += 2 * width)
                Add(buffers[left], buffers[left + width], buffers[left]);
        }
    }
    /// <summary>y += alpha * x.</summary>
    void Axpy(float alpha, Tensor x, Tensor y);
    /// <summary>x *= alpha.</summary>
    void Scale(Tensor x, float alpha);
    /// <summary>y = a * b (elementwise).</summary>
    void Multiply(Tensor a, Tensor b, Tensor y);
    /// <summary>x = clamp(x, min, max).</summary>
    void Clamp(Tensor x, float min, float max);
    /// <summary>Sum of squares, accumulated in double in a fixed order that depends on the length alone.</summary>
    double SumOfSquares(Tensor x);
    /// <summary>True if any element is NaN or infinite.</summary>
    bool HasNonFinite(Tensor x);

    // ---- broadcasting over rows / channels --------------------------------------------------
    /// <summary>x[r, c] += bias[c]; x is [rows, cols].</summary>
    void AddRowBias(Tensor x, Tensor bias);
    /// <summary>sum[c] += Σ_r x[r, c], rows in ascending order; x is [rows, cols].</summary>
    void AccumulateColumnSums(Tensor x, Tensor sum);
    /// <summary>x[n, c, i] += bias[c]; x is [n, channels, inner].</summary>
    void AddChannelBias(Tensor x, Tensor bias, int channels);
    /// <summary>sum[c] += Σ_n Σ_i x[n, c, i] in ascending (n, i) order.</summary>
    void AccumulateChannelSums(Tensor x, Tensor sum, int channels);

    // ---- activations -----------------------------------------------------------------------
    void ActivationForward(ActivationKind kind, float alpha, Tensor x, Tensor y);
    /// <summary>dx = dy * f'(x) (x the input, y the output of the forward pass).</summary>
    void ActivationBackward(ActivationKind kind, float alpha, Tensor x, Tensor y, Tensor dy, Tensor dx);
    /// <summary>PReLU with one learned slope per channel: x, y are [n, channels, inner]; slope is [channels].</summary>
    void PReluForward(Tensor x, Tensor slope, Tensor y, int channels);
    /// <summary>dx = dy * (x &gt; 0 ? 1 : slope); dslope[c] += Σ dy * x over x &lt;= 0 in ascending order.</summary>
    void PReluBackward(Tensor x, Tensor slope, Tensor dy, Tensor dx, Tensor dslope, int channels);
    /// <summary>
    /// RReLU in training: each element's negative slope is uniform in [lower, upper] drawn from
    /// <paramref name="stream"/> at element (firstSample + n) * perSample + i, so it does not depend
    /// on which worker computes the sample. The slopes used are written to <paramref name="slopes"/>.
    /// </summary>
    void RReluForwardTraining(Tensor x, Tensor y, Tensor slopes, float lower, float upper, RandomStream stream, long firstSample);
    /// <summary>dx = dy * (x &gt; 0 ? 1 : slopes).</summary>
    void RReluBackward(Tensor x, Tensor slopes, Tensor dy, Tensor dx);
    /// <summary>Maxout over groups of <paramref name="pieces"/> consecutive features: x [n, units*pieces] → y [n, units].</summary>
    void MaxoutForward(Tensor x, Tensor y, int pieces);
    /// <summary>Routes dy to the arg-max piece (the first one on ties).</summary>
    void MaxoutBackward(Tensor x, Tensor dy, Tensor dx, int pieces);

    // ---- softmax family (x, y are [rows, cols]) ---------------------------------------------
    void Softmax(Tensor x, Tensor y);
    void LogSoftmax(Tensor x, Tensor y);
    /// <summary>dx = y * (dy - Σ dy*y) for y = softmax(x).</summary>
    void SoftmaxBackward(Tensor y, Tensor dy, Tensor dx);

    // ---- losses: return the SUM over samples; gradient = d(sum)/d(input) * gradScale ----------
    /// <summary>logits [n, classes], labels [n] (class indices stored as floats).</summary>
    double SoftmaxCrossEntropy(Tensor logits, Tensor labels, Tensor dlogits, float gradScale);
    /// <summary>Binary cross-entropy on logits (numerically stable); targets in [0, 1], same shape.</summary>
    double BinaryCrossEntropyWithLogits(Tensor logits, Tensor targets, Tensor dlogits, float gradScale);
    /// <summary>Half squared error: Σ ½ (p - t)² over all elements.</summary>
    double HalfSquaredError(Tensor predictions, Tensor targets, Tensor dpredictions, float gradScale);
    /// <summary>Multiclass hinge (Weston-Watkins, margin 1): Σ_n Σ_{j≠y} max(0, s_j - s_y + 1).</summary>
    double MulticlassHinge(Tensor scores, Tensor labels, Tensor dscores, float gradScale);
    /// <summary>Number of rows whose arg-max (first on ties) equals the label.</summary>
    int CountCorrect(Tensor scores, Tensor labels);

    // ---- convolution and pooling (NCHW, batch n) -------------------------------------------
    /// <summary>y [n, outC, oh, ow] = conv(x [n, C, H, W], w [outC, C, kh, kw]) + bias [outC] (bias may be null).</summary>
    void Conv2dForward(Tensor x, Tensor weight, Tensor? bias, Tensor y, ConvGeometry g, int outChannels);
    /// <summary>dx = conv_transpose(dy, w).</summary>
    void Conv2dBackwardData(Tensor dy, Tensor weight, Tensor dx, ConvGeometry g, int outChannels);
    /// <summary>dweight += Σ_n dy ⋆ x, dbias += Σ dy (bias may be null); samples in ascending order.</summary>
    void Conv2dBackwardFilter(Tensor x, Tensor dy, Tensor dweight, Tensor? dbias, ConvGeometry g, int outChannels);
    void MaxPool2dForward(Tensor x, Tensor y, ConvGeometry g);
    /// <summary>dx = 0, then each dy goes to the first maximum of its window in x.</summary>
    void MaxPool2dBackward(Tensor x, Tensor dy, Tensor dx, ConvGeometry g);
    /// <summary>Average over the window; padded positions count as zeros (PyTorch count_include_pad=True).</summary>
    void AvgPool2dForward(Tensor x, Tensor y, ConvGeometry g);
    void AvgPool2dBackward(Tensor dy, Tensor dx, ConvGeometry g);

    // ---- normalization and regularization ---------------------------------------------------
    /// <summary>
    /// Batch norm in training mode over x [n, channels, inner] (inner = 1 for BatchNorm1d):
    /// per channel the batch mean and biased variance normalize x; y = gamma * x̂ + beta.
    /// Saves mean and 1/sqrt(var + eps) for the backward pass, and writes the unbiased variance to
    /// <paramref name="unbiasedVariance"/> (for the running statistics).
    /// </summary>
    void BatchNormForwardTraining(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor savedMean, Tensor savedInvStd, Tensor unbiasedVariance, int channels, float epsilon);
    void BatchNormForwardInference(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVariance, Tensor y, int channels, float epsilon);
    /// <summary>dx overwritten; dgamma and dbeta accumulated.</summary>
    void BatchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor savedMean, Tensor savedInvStd, Tensor dx, Tensor dgamma, Tensor dbeta, int channels);
    /// <summary>
    /// Inverted dropout: mask = (u &gt;= p) / (1 - p) with u from <paramref name="stream"/> at element
    /// (firstSample + n) * perSample + i; y = x * mask. x, y, mask are [n, perSample...].
    /// </summary>
    void DropoutForward(Tensor x, Tensor y, Tensor mask, float p, RandomStream stream, long firstSample);

    // ---- recurrent / embedding ----------------------------------------------------------------
    /// <summary>
    /// y [count, dim] = table [vocabulary, dim] rows picked by <paramref name="indices"/> [count] (token ids
    /// stored as floats). A non-integral or out-of-range id is an error, never clamped.
    /// </summary>
    void EmbeddingForward(Tensor indices, Tensor table, Tensor y);
    /// <summary>dtable[indices[r]] += dy[r] for r in ascending order (the sparse rows of the table's gradient).</summary>
    void EmbeddingBackward(Tensor indices, Tensor dy, Tensor dtable);
    /// <summary>
    /// Swaps the two leading axes: x [outer, middle, inner] → y [middle, outer, inner], inner = x.Length / (outer·middle).
    /// Turns batch-major sequences [n, T, features] into time-major [T, n, features] and back.
    /// </summary>
    void SwapLeadingAxes(Tensor x, Tensor y, int outer, int middle);
    /// <summary>
    /// One LSTM step over n rows (PyTorch's gate order i, f, g, o). <paramref name="gates"/> [n, 4H] holds the
    /// pre-activations x W_ihᵀ + h W_hhᵀ + biases and is overwritten with σ(i), σ(f), tanh(g), σ(o);
    /// cell = f·previousCell + i·g, tanhCell = tanh(cell), hidden = o·tanhCell (all [n, H]).
    /// </summary>
    void LstmCellForward(Tensor gates, Tensor previousCell, Tensor cell, Tensor tanhCell, Tensor hidden);
    /// <summary>
    /// Backward of <see cref="LstmCellForward"/> from its saved activated gates, previousCell and tanhCell.
    /// On entry <paramref name="cellGradient"/> holds dL/dcell from the later steps; on return it holds
    /// dL/dpreviousCell. <paramref name="gateGradients"/> [n, 4H] receives dL/d(pre-activations).
    /// </summary>
    void LstmCellBackward(Tensor gates, Tensor previousCell, Tensor tanhCell, Tensor hiddenGradient, Tensor cellGradient, Tensor gateGradients);

    // ---- optimizers (elementwise over a flat parameter range) --------------------------------
    /// <summary>PyTorch SGD: g = grad + wd*w; v = momentum*v + g (v = g on the first step); w -= lr * (nesterov ? g + momentum*v : v).</summary>
    void SgdStep(Tensor weights, Tensor gradients, Tensor velocity, float learningRate, float momentum, float weightDecay, bool nesterov, bool firstStep);
    /// <summary>PyTorch Adam (decoupled = false: wd added to the gradient) or AdamW (decoupled = true: w *= 1 - lr*wd). step counts from 1.</summary>
    void AdamStep(Tensor weights, Tensor gradients, Tensor firstMoment, Tensor secondMoment, float learningRate, float beta1, float beta2, float epsilon, float weightDecay, bool decoupled, long step);
}

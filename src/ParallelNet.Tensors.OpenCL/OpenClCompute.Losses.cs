using ParallelNet.Tensors.OpenCL.Internal;

namespace ParallelNet.Tensors.OpenCL;

public sealed partial class OpenClCompute
{
    // ---- softmax family ----
    public void Softmax(Tensor x, Tensor y) => RowWise("Softmax", "softmax_rows", x, y);
    public void LogSoftmax(Tensor x, Tensor y) => RowWise("LogSoftmax", "log_softmax_rows", x, y);

    public void SoftmaxBackward(Tensor y, Tensor dy, Tensor dx)
    {
        const string op = "SoftmaxBackward";
        Checks.SameLength(op, y.Length, dy.Length, "y", "dy");
        Checks.SameLength(op, y.Length, dx.Length, "y", "dx");
        int cols = Columns(y);
        Checks.DivisibleBy(op, "y", y.Length, cols, "cols");
        lock (_sync) _runtime.Launch("softmax_backward_rows", y.Length / cols, Arg(y, op), Arg(dy, op), Arg(dx, op), cols);
    }

    // ---- losses ----
    public double SoftmaxCrossEntropy(Tensor logits, Tensor labels, Tensor dlogits, float gradScale)
        => RowLoss("SoftmaxCrossEntropy", "softmax_cross_entropy_rows", logits, labels, dlogits, gradScale);

    public double MulticlassHinge(Tensor scores, Tensor labels, Tensor dscores, float gradScale)
        => RowLoss("MulticlassHinge", "multiclass_hinge_rows", scores, labels, dscores, gradScale);

    public double BinaryCrossEntropyWithLogits(Tensor logits, Tensor targets, Tensor dlogits, float gradScale)
        => ElementLoss("BinaryCrossEntropyWithLogits", "binary_cross_entropy_terms", logits, targets, dlogits, gradScale, "logits");

    public double HalfSquaredError(Tensor predictions, Tensor targets, Tensor dpredictions, float gradScale)
        => ElementLoss("HalfSquaredError", "half_squared_error_terms", predictions, targets, dpredictions, gradScale, "predictions");

    public int CountCorrect(Tensor scores, Tensor labels)
    {
        const string op = "CountCorrect";
        if (labels.Length == 0) return 0;
        Checks.DivisibleBy(op, "scores", scores.Length, labels.Length, "number of labels");
        int rows = labels.Length, classes = scores.Length / rows;
        Checks.Positive(op, "classes", classes);
        lock (_sync)
        {
            var correct = ScratchBuffer(Scratch.Terms, (long)rows * sizeof(int));
            _runtime.Launch("correct_rows", rows, Arg(scores, op), Arg(labels, op), classes, correct);
            var flags = new int[rows];
            _runtime.Read<int>(correct, 0, flags);
            ThrowOnBadLabel(op, labels, classes);
            return flags.Sum();
        }
    }

    private void RowWise(string op, string kernel, Tensor x, Tensor y)
    {
        Checks.SameLength(op, x.Length, y.Length, "x", "y");
        int cols = Columns(x);
        Checks.DivisibleBy(op, "x", x.Length, cols, "cols");
        lock (_sync) _runtime.Launch(kernel, x.Length / cols, Arg(x, op), Arg(y, op), cols);
    }

    /// <summary>A per-row loss kernel writes each row's loss; the rows are summed in ascending order.</summary>
    private double RowLoss(string op, string kernel, Tensor scores, Tensor labels, Tensor gradient, float gradScale)
    {
        Checks.SameLength(op, scores.Length, gradient.Length, "scores", "gradient");
        if (labels.Length == 0)
        {
            Checks.Length(op, "scores", scores.Length, 0);
            return 0;
        }
        Checks.DivisibleBy(op, "scores", scores.Length, labels.Length, "number of labels");
        int rows = labels.Length, classes = scores.Length / rows;
        Checks.Positive(op, "classes", classes);
        lock (_sync)
        {
            var losses = AccumulatorScratch(Scratch.Terms, rows);
            _runtime.Launch(kernel, rows, Arg(scores, op), Arg(labels, op), Arg(gradient, op), gradScale, classes, losses);
            double total = SumTerms(losses, rows);
            ThrowOnBadLabel(op, labels, classes);
            return total;
        }
    }

    private double ElementLoss(string op, string kernel, Tensor inputs, Tensor targets, Tensor gradient, float gradScale, string inputName)
    {
        Checks.SameLength(op, inputs.Length, targets.Length, inputName, "targets");
        Checks.SameLength(op, inputs.Length, gradient.Length, inputName, "d" + inputName);
        lock (_sync)
        {
            if (inputs.Length == 0) return 0;
            var terms = AccumulatorScratch(Scratch.Terms, inputs.Length);
            _runtime.Launch(kernel, inputs.Length, Arg(inputs, op), Arg(targets, op), Arg(gradient, op), gradScale, terms);
            return SumTerms(terms, inputs.Length);
        }
    }

    /// <summary>Labels are class indices stored as floats; the first row that holds anything else is reported, as on the CPU.</summary>
    private void ThrowOnBadLabel(string op, Tensor labels, int classes)
    {
        var flag = ScratchBuffer(Scratch.Flag, sizeof(int));
        _runtime.Fill(flag, 0, 1, int.MaxValue);
        _runtime.Launch("check_labels", labels.Length, Arg(labels, op), classes, flag);
        Span<int> bad = stackalloc int[1];
        _runtime.Read(flag, 0, bad);
        if (bad[0] == int.MaxValue) return;
        Span<float> value = stackalloc float[1];
        _runtime.Read(Buffer(labels, op), labels.Offset + bad[0], value);
        throw new ArgumentException($"{op}: label {value[0]} in row {bad[0]} is not a class index in [0, {classes}).");
    }
}

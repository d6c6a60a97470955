using ParallelNet.Tensors;

namespace ParallelNet.NN.Tests;

/// <summary>
/// Central finite differences (in float32 arithmetic, loss summed in double) against the analytic
/// gradients of every layer and loss, for the inputs and every trainable parameter, in training and in
/// eval mode. Dropout and RReLU draw from a fixed StepContext, so their masks are the same in every
/// evaluation. Inputs are kept at least 0.1 away from ReLU-like kinks and pooling/maxout inputs are
/// distinct by at least 0.05, so a step of <see cref="Epsilon"/> never crosses a kink (residual blocks, with
/// kinks inside, use the step <see cref="InternalKinkEpsilon"/> and skip kink-crossing entries, see <see cref="MaxKinkFraction"/>). Tolerance: the
/// largest |numeric - analytic| must be at most 1e-2 · max(1, largest |analytic|).
/// </summary>
public sealed class GradientCheckTests
{
    private const float Epsilon = 1e-2f;
    // Residual blocks have ReLUs on internal pre-activations the test cannot keep away from zero: an entry whose
    // central differences at steps epsilon and epsilon/2 disagree (a step crossed a kink; for a smooth function
    // they differ only by O(epsilon²)) is not compared, as long as such entries are at most a fifth of a tensor.
    private const double MaxKinkFraction = 0.2;
    private const float InternalKinkEpsilon = 1e-3f;
    private const double Tolerance = 1e-2;

    private enum Inputs { Gaussian, AwayFromZero, Distinct, TokenIds }

    private static readonly (string Name, string Yaml, int Count, Inputs Kind)[] Cases =
    [
        ("linear", "input: [4]\nloss: mse\nlayers: [{type: linear, out: 3}]", 3, Inputs.Gaussian),
        ("linear_nobias_xavier", "input: [5]\nloss: mse\nlayers: [{type: linear, out: 2, bias: false, init: xavier}]", 2, Inputs.Gaussian),
        ("conv2d_pad", "input: [2, 5, 4]\nloss: mse\nlayers: [{type: conv2d, out: 3, kernel: 3, padding: 1}]", 2, Inputs.Gaussian),
        ("conv2d_stride", "input: [2, 7, 6]\nloss: mse\nlayers: [{type: conv2d, out: 2, kernel: 3, stride: 2}]", 2, Inputs.Gaussian),
        ("conv2d_same5", "input: [1, 5, 5]\nloss: mse\nlayers: [{type: conv2d, out: 2, kernel: 5, padding: same}]", 1, Inputs.Gaussian),
        ("conv2d_tiny", "input: [1, 3, 3]\nloss: mse\nlayers: [{type: conv2d, out: 1, kernel: 3}]", 1, Inputs.Gaussian),
        ("maxpool2d", "input: [2, 5, 5]\nloss: mse\nlayers: [{type: maxpool2d, kernel: 2}]", 2, Inputs.Distinct),
        ("maxpool2d_pad", "input: [1, 5, 5]\nloss: mse\nlayers: [{type: maxpool2d, kernel: 3, stride: 2, padding: 1}]", 2, Inputs.Distinct),
        ("avgpool2d_pad", "input: [2, 5, 5]\nloss: mse\nlayers: [{type: avgpool2d, kernel: 3, stride: 2, padding: 1}]", 2, Inputs.Gaussian),
        ("flatten", "input: [2, 2, 3]\nloss: mse\nlayers: [{type: flatten}, {type: linear, out: 2}]", 2, Inputs.Gaussian),
        ("dropout", "input: [6]\nloss: mse\nlayers: [{type: linear, out: 8}, {type: dropout, p: 0.4}]", 3, Inputs.Gaussian),
        ("batchnorm1d", "input: [3]\nloss: mse\nlayers: [{type: linear, out: 4}, {type: batchnorm1d}]", 5, Inputs.Gaussian),
        ("batchnorm2d", "input: [2, 3, 3]\nloss: mse\nlayers: [{type: batchnorm2d}]", 3, Inputs.Gaussian),
        ("residual_projection", "input: [2, 4, 4]\nloss: mse\nlayers: [{type: residual, out: 3, stride: 2}]", 2, Inputs.Gaussian),
        ("residual_identity", "input: [2, 3, 3]\nloss: mse\nlayers: [{type: residual, out: 2}]", 2, Inputs.Gaussian),
        ("sigmoid", "input: [5]\nloss: mse\nlayers: [{type: sigmoid}]", 3, Inputs.Gaussian),
        ("tanh", "input: [5]\nloss: mse\nlayers: [{type: tanh}]", 3, Inputs.Gaussian),
        ("relu", "input: [5]\nloss: mse\nlayers: [{type: relu}]", 3, Inputs.AwayFromZero),
        ("leaky_relu", "input: [5]\nloss: mse\nlayers: [{type: leaky_relu, alpha: 0.2}]", 3, Inputs.AwayFromZero),
        ("prelu_single", "input: [2, 2, 2]\nloss: mse\nlayers: [{type: prelu}]", 3, Inputs.AwayFromZero),
        ("prelu_per_channel", "input: [3, 2]\nloss: mse\nlayers: [{type: prelu, per_channel: true, init: 0.1}]", 3, Inputs.AwayFromZero),
        ("rrelu", "input: [6]\nloss: mse\nlayers: [{type: rrelu}]", 3, Inputs.AwayFromZero),
        ("softmax", "input: [4]\nloss: mse\nlayers: [{type: softmax}]", 3, Inputs.Gaussian),
        ("maxout", "input: [6]\nloss: mse\nlayers: [{type: maxout, pieces: 2}]", 3, Inputs.Distinct),
        ("loss_cross_entropy", "input: [4]\nloss: cross_entropy\nlayers: [{type: linear, out: 3}]", 4, Inputs.Gaussian),
        ("loss_bce", "input: [4]\nloss: bce\nlayers: [{type: linear, out: 2}]", 4, Inputs.Gaussian),
        ("loss_mse_l2", "input: [4]\nloss: mse\nl2: 0.3\nlayers: [{type: linear, out: 2}]", 4, Inputs.Gaussian),
        ("loss_hinge", "input: [4]\nloss: hinge\nlayers: [{type: linear, out: 3}]", 4, Inputs.Gaussian),
        // Sequence layers: gradients through time. Truncated BPTT is deliberately not the true gradient, so its
        // cases live in the PyTorch fixtures (make_sequence_fixtures.py) instead.
        ("embedding", "input: [4]\nloss: mse\nlayers: [{type: embedding, vocabulary: 5, dim: 3}]", 3, Inputs.TokenIds),
        ("rnn_last", "input: [4, 2]\nloss: mse\nlayers: [{type: rnn, hidden: 3}]", 2, Inputs.Gaussian),
        ("rnn_sequences_linear", "input: [5, 2]\nloss: mse\nlayers: [{type: rnn, hidden: 3, return_sequences: true}, {type: linear, out: 2}]", 2, Inputs.Gaussian),
        ("lstm_last", "input: [4, 2]\nloss: mse\nlayers: [{type: lstm, hidden: 3}]", 2, Inputs.Gaussian),
        ("lstm_sequences", "input: [5, 3]\nloss: mse\nlayers: [{type: lstm, hidden: 3, return_sequences: true}]", 2, Inputs.Gaussian),
        ("lstm_image_classifier", "input: [1, 4, 3]\nloss: cross_entropy\nlayers: [{type: lstm, hidden: 3}, {type: linear, out: 3}]", 3, Inputs.Gaussian),
        ("lstm_per_step_cross_entropy", "input: [4, 2]\nloss: cross_entropy\nlayers: [{type: lstm, hidden: 3, return_sequences: true}, {type: linear, out: 3}]", 2, Inputs.Gaussian),
        ("embedding_lstm_classifier", "input: [5]\nloss: cross_entropy\nlayers: [{type: embedding, vocabulary: 4, dim: 3}, {type: lstm, hidden: 3}, {type: linear, out: 3}]", 3, Inputs.TokenIds),
        // word2vec's out_embed starts at zero (no gradient reaches in_embed there), so the weights are perturbed below.
        ("word2vec_skipgram", "input: [4]\nloss: bce\nlayers: [{type: word2vec, vocabulary: 5, dim: 3}]", 3, Inputs.TokenIds),
        ("word2vec_cbow", "input: [6]\nloss: bce\nlayers: [{type: word2vec, vocabulary: 4, dim: 3, contexts: 3}]", 3, Inputs.TokenIds),
    ];

    public static TheoryData<string, bool> CasesAndModes()
    {
        var data = new TheoryData<string, bool>();
        foreach (var c in Cases)
        {
            data.Add(c.Name, true);
            data.Add(c.Name, false);
        }
        return data;
    }

    [Fact]
    public void EveryLayerTypeAndLossIsChecked()
    {
        var types = Cases.SelectMany(c => ModelSpec.Parse(c.Yaml).Layers.Select(l => l.Type)).ToHashSet();
        types.Add("step"); // the straight-through step has a zero true derivative; PerceptronTests checks its documented rule instead
        Assert.Equal(Internal.LayerFactory.LayerTypes.Order(), types.Order());
        var losses = Cases.Select(c => Losses.LossNames.ToName(ModelSpec.Parse(c.Yaml).Loss)).ToHashSet();
        losses.Add("perceptron");
        Assert.Equal(Losses.LossNames.All.Order(), losses.Order());
    }

    [Theory]
    [MemberData(nameof(CasesAndModes))]
    public void AnalyticGradientMatchesFiniteDifferences(string name, bool training)
    {
        var c = Cases.Single(x => x.Name == name);
        var spec = ModelSpec.Parse(c.Yaml);
        var compute = TestSupport.Cpu();
        var model = Model.Create(spec, compute, c.Count);
        model.Initialize(seed: 11);
        PerturbNonWeightParameters(model, compute);
        var inputs = MakeInputs(c.Kind, c.Count * spec.Input.Size);
        var targets = MakeTargets(model, c.Count);
        var context = new StepContext(Seed: 5, Epoch: 1, Step: 2, FirstSample: 3);

        compute.Fill(model.Gradients, 0f);
        model.RunShard(inputs, targets, c.Count, training, context, backward: true, inputGradient: true);
        var analyticInput = TestSupport.Download(compute, model.InputGradient!);
        var analyticParameters = TestSupport.Download(compute, model.Gradients);
        var parameters = TestSupport.Download(compute, model.Parameters);
        // The L2 term is added once per step by the caller; here it joins the loss and gradient the same way.
        float lambda = spec.L2;
        model.ApplyL2(model.Parameters, model.Gradients, lambda);
        analyticParameters = TestSupport.Download(compute, model.Gradients);

        double Loss()
        {
            double l = model.RunShard(inputs, targets, c.Count, training, context, backward: false).LossSum;
            return l + model.L2Penalty(model.Parameters, lambda);
        }

        bool kinksInside = name.StartsWith("residual", StringComparison.Ordinal);
        float epsilon = kinksInside ? InternalKinkEpsilon : Epsilon;
        if (c.Kind == Inputs.TokenIds)
        {
            // Token ids are not differentiable (a step of epsilon is not an id); the layer reports a zero gradient, like PyTorch.
            Assert.All(analyticInput, g => Assert.Equal(0f, g));
        }
        else
        {
            CheckInputGradient();
        }

        void CheckInputGradient()
        {
        var numericInput = new float[inputs.Length];
        var kinkInput = new bool[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            float saved = inputs[i];
            (numericInput[i], kinkInput[i]) = Derivative(epsilon, h =>
            {
                inputs[i] = saved + h;
                double loss = Loss();
                inputs[i] = saved;
                return loss;
            }, kinksInside);
        }
        AssertGradient(numericInput, analyticInput, kinksInside ? kinkInput : null, $"{name} ({(training ? "train" : "eval")}) input");
        }

        foreach (var p in model.Layout.Parameters.Where(p => p.IsTrainable))
        {
            var numeric = new float[p.Length];
            var kink = new bool[p.Length];
            for (int i = 0; i < p.Length; i++)
            {
                int k = p.Offset + i;
                float saved = parameters[k];
                (numeric[i], kink[i]) = Derivative(epsilon, h =>
                {
                    parameters[k] = saved + h;
                    compute.Upload(parameters, model.Parameters);
                    double loss = Loss();
                    parameters[k] = saved;
                    compute.Upload(parameters, model.Parameters);
                    return loss;
                }, kinksInside);
            }
            AssertGradient(numeric, analyticParameters.AsSpan(p.Offset, p.Length).ToArray(), kinksInside ? kink : null, $"{name} ({(training ? "train" : "eval")}) {p.Name}");
        }
    }

    /// <summary>The central difference of the loss at offset h, and (when asked) whether halving the step changes it (a kink inside the step).</summary>
    private static (float Slope, bool Kink) Derivative(float epsilon, Func<float, double> lossAt, bool detectKinks)
    {
        double slope = (lossAt(epsilon) - lossAt(-epsilon)) / (2 * epsilon);
        if (!detectKinks) return ((float)slope, false);
        double half = (lossAt(epsilon / 2) - lossAt(-epsilon / 2)) / epsilon;
        return ((float)slope, Math.Abs(slope - half) > Tolerance * Math.Max(1.0, Math.Abs(slope)));
    }

    private static void AssertGradient(float[] numeric, float[] analytic, bool[]? kinks, string what)
    {
        double scale = Math.Max(1.0, analytic.Max(v => Math.Abs(v)));
        int skipped = kinks?.Count(k => k) ?? 0;
        Assert.True(skipped <= MaxKinkFraction * numeric.Length, $"{what}: {skipped} of {numeric.Length} entries straddle a kink; the check would prove too little.");
        double worst = numeric.Select((n, i) => kinks is not null && kinks[i] ? 0 : Math.Abs(n - analytic[i])).DefaultIfEmpty(0).Max();
        Assert.True(worst <= Tolerance * scale,
            $"{what}: max |numeric - analytic| = {worst:G4} > {Tolerance}·{scale:G4}\n numeric  {string.Join(", ", numeric.Select(v => v.ToString("G4")))}\n analytic {string.Join(", ", analytic.Select(v => v.ToString("G4")))}");
    }

    /// <summary>Batch-norm statistics and gammas away from their defaults, so eval mode is not the identity and gamma matters; word2vec tables away from zero.</summary>
    private static void PerturbNonWeightParameters(Model model, ICompute compute)
    {
        var values = TestSupport.Download(compute, model.Parameters);
        var noise = TestSupport.RandomFloats(values.Length, 99, 0.4f);
        foreach (var p in model.Layout.Parameters)
        {
            for (int i = p.Offset; i < p.Offset + p.Length; i++)
            {
                values[i] = p.Role switch
                {
                    ParameterRole.Gamma => 1f + noise[i],
                    ParameterRole.Beta or ParameterRole.RunningMean => noise[i],
                    ParameterRole.RunningVariance => 1f + noise[i],
                    _ when p.Name.EndsWith("embed.weight", StringComparison.Ordinal) => noise[i],
                    _ => values[i],
                };
            }
        }
        compute.Upload(values, model.Parameters);
    }

    private static float[] MakeInputs(Inputs kind, int count)
    {
        var values = TestSupport.RandomFloats(count, 7, 1.5f);
        switch (kind)
        {
            case Inputs.AwayFromZero:
                for (int i = 0; i < count; i++) values[i] += MathF.CopySign(0.1f, values[i]);
                break;
            case Inputs.TokenIds:
                // Ids 0..3, valid for every vocabulary of at least 4 in the cases above.
                for (int i = 0; i < count; i++) values[i] = MathF.Floor((values[i] + 1.5f) / 3f * 3.999f);
                break;
            case Inputs.Distinct:
                // A shuffled grid: any two inputs differ by at least 0.05, more than twice the finite-difference step.
                var order = values.Select((v, i) => (v, i)).OrderBy(t => t.v).Select(t => t.i).ToArray();
                for (int rank = 0; rank < count; rank++) values[order[rank]] = -1f + 0.05f * rank;
                break;
        }
        return values;
    }

    private static float[] MakeTargets(Model model, int count)
    {
        // Class-label losses take one label per step of a [steps, classes] output (one step for a [classes] output).
        int classes = model.OutputShape.Size / model.TargetSize;
        var raw = TestSupport.RandomFloats(count * model.TargetSize, 3);
        return model.Spec.Loss switch
        {
            Losses.LossKind.CrossEntropy or Losses.LossKind.Hinge => raw.Select(v => (float)Math.Min(classes - 1, (int)((v + 1f) / 2f * classes))).ToArray(),
            Losses.LossKind.BinaryCrossEntropy => raw.Select(v => (v + 1f) / 2f).ToArray(),
            _ => raw,
        };
    }
}

using ParallelNet.Tensors;

namespace ParallelNet.NN.Tests;

public sealed class ModelTests
{
    private static readonly StepContext Step = new(Seed: 42, Epoch: 2, Step: 7, FirstSample: 0);

    private static Model Create(string yaml, int maxBatch, ulong seed = 1)
    {
        var model = Model.Create(ModelSpec.Parse(yaml), TestSupport.Cpu(), maxBatch);
        model.Initialize(seed);
        return model;
    }

    [Fact]
    public void SameSeedGivesBitwiseTheSameParameters()
    {
        var spec = ModelSpec.Preset("resnet-small");
        var a = Model.Create(spec, TestSupport.Cpu(), 1);
        var b = Model.Create(spec, TestSupport.Cpu(), 1);
        a.Initialize(123);
        b.Initialize(123);
        var pa = TestSupport.Download(a.Compute, a.Parameters);
        var pb = TestSupport.Download(b.Compute, b.Parameters);
        Assert.Equal(pa.Select(BitConverter.SingleToInt32Bits), pb.Select(BitConverter.SingleToInt32Bits));
        b.Initialize(124);
        var pc = TestSupport.Download(b.Compute, b.Parameters);
        Assert.NotEqual(pa.Select(BitConverter.SingleToInt32Bits), pc.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void InitializationIsAPureFunctionOfSeedAndParameter()
    {
        // Changing the last layer must not change the first layer's draws.
        var small = Create("input: [20]\nloss: mse\nlayers: [{type: linear, out: 8}, {type: relu}, {type: linear, out: 3}]", 1, seed: 9);
        var other = Create("input: [20]\nloss: mse\nlayers: [{type: linear, out: 8}, {type: tanh}, {type: linear, out: 5}]", 1, seed: 9);
        var first = small.Layout["0.weight"];
        var a = TestSupport.Download(small.Compute, small.Parameters).AsSpan(first.Offset, first.Length).ToArray();
        var b = TestSupport.Download(other.Compute, other.Parameters).AsSpan(first.Offset, first.Length).ToArray();
        Assert.Equal(a, b);
    }

    [Theory]
    // scheme, expected bound or standard deviation for a 400 → 300 linear layer, whether the bias is random
    [InlineData("pytorch", 0.05, true)]       // uniform ±1/sqrt(400)
    [InlineData("xavier", 0.0925820, false)]  // uniform ±sqrt(6/700)
    [InlineData("he_uniform", 0.1224745, false)] // uniform ±sqrt(6/400)
    [InlineData("he", 0.0707107, false)]      // normal, std sqrt(2/400)
    [InlineData("normal", 0.01, false)]       // normal, std 0.01
    [InlineData("zeros", 0.0, false)]
    public void InitializersDrawFromTheirDistributions(string scheme, double scale, bool randomBias)
    {
        var model = Create($"input: [400]\nloss: mse\nlayers: [{{type: linear, out: 300, init: {scheme}}}]", 1, seed: 5);
        var values = TestSupport.Download(model.Compute, model.Parameters);
        var w = values.AsSpan(0, 120_000).ToArray();
        var bias = values.AsSpan(120_000, 300).ToArray();
        double mean = w.Average(v => (double)v), variance = w.Average(v => (double)v * v) - mean * mean;
        bool uniform = scheme is "pytorch" or "xavier" or "he_uniform";
        double expectedStd = uniform ? scale / Math.Sqrt(3) : scale;
        // 120,000 draws: the sample mean is within 4 standard errors, the sample std within 1 %.
        Assert.True(Math.Abs(mean) <= 4 * expectedStd / Math.Sqrt(w.Length) + 1e-12, $"mean {mean}");
        Assert.True(Math.Abs(Math.Sqrt(variance) - expectedStd) <= 0.01 * expectedStd + 1e-12, $"std {Math.Sqrt(variance)} vs {expectedStd}");
        if (uniform) Assert.True(w.Max(Math.Abs) <= scale, "uniform draws stay inside the bound");
        if (randomBias) Assert.True(bias.Max(Math.Abs) <= scale && bias.Distinct().Count() > 250);
        else Assert.All(bias, b => Assert.Equal(0f, b));
    }

    [Fact]
    public void BatchNormAndPReluStartLikeTorch()
    {
        var model = Create("input: [3, 4]\nloss: mse\nlayers: [{type: batchnorm1d}, {type: prelu, per_channel: true}]", 1);
        var values = TestSupport.Download(model.Compute, model.Parameters);
        float[] Slot(string name) => values.AsSpan(model.Layout[name].Offset, model.Layout[name].Length).ToArray();
        Assert.Equal([1f, 1f, 1f], Slot("0.weight"));
        Assert.Equal([0f, 0f, 0f], Slot("0.bias"));
        Assert.Equal([0f, 0f, 0f], Slot("0.running_mean"));
        Assert.Equal([1f, 1f, 1f], Slot("0.running_var"));
        Assert.Equal([0f], Slot("0.num_batches_tracked"));
        Assert.Equal([0.25f, 0.25f, 0.25f], Slot("1.weight"));
    }

    [Fact]
    public void ReluBeforeMaxPool_GivesBitwiseTheSameLossAndGradientsAsReluThenPool()
    {
        // The model runs a relu followed by a max-pool as pool-then-relu; a no-op dropout (p 0) between them
        // keeps the literal order. Same parameter order, same seed: the two must agree bit for bit.
        const string layers = "{type: conv2d, out: 4, kernel: 3}, {type: relu}, {{PAD}}{type: maxpool2d, kernel: 2}, {type: flatten}, {type: linear, out: 3}";
        string Spec(string pad) => "input: [2, 9, 8]\nloss: cross_entropy\nlayers: [" + layers.Replace("{{PAD}}", pad) + "]";
        var inputs = TestSupport.RandomFloats(5 * 2 * 9 * 8, 3);
        float[] targets = [0, 2, 1, 1, 0];
        var swapped = Create(Spec(""), 5);
        var literal = Create(Spec("{type: dropout, p: 0}, "), 5);
        var a = swapped.TrainShard(inputs, targets, 5, Step);
        var b = literal.TrainShard(inputs, targets, 5, Step);
        Assert.Equal(b.LossSum, a.LossSum);
        Assert.Equal(TestSupport.Download(literal.Compute, literal.Gradients).Select(BitConverter.SingleToInt32Bits),
            TestSupport.Download(swapped.Compute, swapped.Gradients).Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void DropoutMasksFollowTheGlobalSamplePositionNotTheShard()
    {
        const string yaml = "input: [5]\nloss: mse\nlayers: [{type: linear, out: 16}, {type: dropout, p: 0.5}, {type: rrelu}, {type: linear, out: 2}]";
        var inputs = TestSupport.RandomFloats(6 * 5, 1);
        var targets = TestSupport.RandomFloats(6 * 2, 2);

        var whole = Create(yaml, 6);
        var wholeResult = whole.TrainShard(inputs, targets, 6, Step);
        var wholeGradient = TestSupport.Download(whole.Compute, whole.Gradients);

        var split = Create(yaml, 6);
        var first = split.TrainShard(inputs.AsSpan(0, 15), targets.AsSpan(0, 6), 3, Step with { FirstSample = 0 });
        var second = split.TrainShard(inputs.AsSpan(15), targets.AsSpan(6), 3, Step with { FirstSample = 3 });
        var splitGradient = TestSupport.Download(split.Compute, split.Gradients);

        Assert.Equal(wholeResult.LossSum, first.LossSum + second.LossSum, 1e-4);
        TestSupport.AssertClose(wholeGradient, splitGradient, 1e-5, 1e-4, "sum of shard gradients");

        // The same samples placed at other global positions get other masks.
        var shifted = Create(yaml, 6);
        shifted.TrainShard(inputs, targets, 6, Step with { FirstSample = 6 });
        Assert.NotEqual(wholeGradient, TestSupport.Download(shifted.Compute, shifted.Gradients));
    }

    [Fact]
    public void DropoutKeepsAboutOneMinusPAndScalesByItsInverse()
    {
        var model = Create("input: [1000]\nloss: mse\nlayers: [{type: dropout, p: 0.2}]", 4);
        var inputs = Enumerable.Repeat(1f, 4000).ToArray();
        model.RunShard(inputs, new float[4000], 4, training: true, Step, backward: false);
        var y = TestSupport.Download(model.Compute, model.LastOutputs!);
        Assert.All(y, v => Assert.True(v == 0f || v == 1.25f, $"unexpected {v}"));
        double kept = y.Count(v => v != 0f) / 4000.0;
        Assert.InRange(kept, 0.78, 0.82);
        var result = model.Evaluate(inputs, new float[4000], 4);
        Assert.Equal(0.5 * 4000, result.LossSum, 6); // eval is the identity: ½ Σ 1²
    }

    [Fact]
    public void RReluDrawsSlopesInItsRangeWhileTraining()
    {
        var model = Create("input: [500]\nloss: mse\nlayers: [{type: rrelu}]", 2);
        var inputs = Enumerable.Repeat(-2f, 1000).ToArray();
        model.RunShard(inputs, new float[1000], 2, training: true, Step, backward: false);
        var slopes = TestSupport.Download(model.Compute, model.LastOutputs!).Select(v => v / -2f).ToArray();
        Assert.All(slopes, s => Assert.InRange(s, 0.125f, 1f / 3f));
        Assert.True(slopes.Distinct().Count() > 900);
        var predictions = new float[1000];
        model.Predict(inputs, 2, predictions);
        Assert.All(predictions, p => Assert.Equal(-2f * (0.125f + 1f / 3f) / 2f, p, 6));
    }

    [Fact]
    public void TrainShardAddsIntoTheGradients()
    {
        var model = Create("input: [4]\nloss: cross_entropy\nlayers: [{type: linear, out: 3}]", 5);
        var inputs = TestSupport.RandomFloats(20, 3);
        float[] labels = [0, 2, 1, 1, 0];
        model.TrainShard(inputs, labels, 5, Step);
        var once = TestSupport.Download(model.Compute, model.Gradients);
        model.TrainShard(inputs, labels, 5, Step);
        var twice = TestSupport.Download(model.Compute, model.Gradients);
        TestSupport.AssertClose(once.Select(v => 2 * v).ToArray(), twice, 0, 1e-6, "gradients after two shards");
        Assert.Contains(once, v => v != 0f);
    }

    [Fact]
    public void AccumulateIntoRedirectsTheGradientsBitwiseAndBack()
    {
        const string spec = "input: [6]\nloss: cross_entropy\nlayers: [{type: linear, out: 5}, {type: relu}, {type: linear, out: 3}]";
        var model = Create(spec, 4);
        var inputs = TestSupport.RandomFloats(24, 5);
        float[] labels = [0, 2, 1, 1];
        model.TrainShard(inputs, labels, 4, Step);
        var own = TestSupport.Download(model.Compute, model.Gradients);

        var elsewhere = model.Compute.Allocate(new Shape(model.Layout.TotalSize));
        model.AccumulateInto(elsewhere);
        Assert.Same(elsewhere, model.Gradients);
        model.TrainShard(inputs, labels, 4, Step);
        model.AccumulateInto(null);
        Assert.Equal(own.Select(BitConverter.SingleToInt32Bits), TestSupport.Download(model.Compute, elsewhere).Select(BitConverter.SingleToInt32Bits));
        // The model's own buffer was not touched while redirected, and is the target again.
        Assert.Equal(own, TestSupport.Download(model.Compute, model.Gradients));
        model.TrainShard(inputs, labels, 4, Step);
        TestSupport.AssertClose(own.Select(v => 2 * v).ToArray(), TestSupport.Download(model.Compute, model.Gradients), 0, 1e-6, "own buffer after a second shard");

        Assert.Contains("flat layout", Assert.Throws<ArgumentException>(() => model.AccumulateInto(Tensor.Zeros(3))).Message);
        Assert.Contains("storage with the parameters", Assert.Throws<ArgumentException>(() => model.AccumulateInto(model.Parameters)).Message);
    }

    [Fact]
    public void ReadParametersFromTrainsWithAnotherBufferBitwiseWithoutWritingItAndBack()
    {
        // Batch norm too: its running statistics go to the gradients, never into the parameters read.
        const string spec = "input: [6]\nloss: cross_entropy\nlayers: [{type: linear, out: 5}, {type: batchnorm1d}, {type: relu}, {type: linear, out: 3}]";
        var model = Create(spec, 4);
        var inputs = TestSupport.RandomFloats(24, 5);
        float[] labels = [0, 2, 1, 1];
        var own = TestSupport.Download(model.Compute, model.Parameters);
        var other = TestSupport.RandomFloats(model.Layout.TotalSize, 9);
        var reference = Create(spec, 4);
        reference.Compute.Upload(other, reference.Parameters);
        reference.TrainShard(inputs, labels, 4, Step);

        var published = Tensor.FromArray((float[])other.Clone(), new Shape(other.Length));
        model.ReadParametersFrom(published);
        Assert.Same(published, model.Parameters);
        model.TrainShard(inputs, labels, 4, Step);
        Assert.Equal(TestSupport.Download(reference.Compute, reference.Gradients).Select(BitConverter.SingleToInt32Bits),
            TestSupport.Download(model.Compute, model.Gradients).Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(other, published.Span.ToArray());

        model.ReadParametersFrom(null);
        Assert.Equal(own, TestSupport.Download(model.Compute, model.Parameters));
        Assert.Contains("flat layout", Assert.Throws<ArgumentException>(() => model.ReadParametersFrom(Tensor.Zeros(3))).Message);
        Assert.Contains("storage with the gradients", Assert.Throws<ArgumentException>(() => model.ReadParametersFrom(model.Gradients)).Message);
    }

    [Fact]
    public void EvaluateCountsCorrectArgMaxesAndLeavesGradientsAlone()
    {
        var model = Create("input: [4]\nloss: cross_entropy\nlayers: [{type: linear, out: 3}]", 8);
        var inputs = TestSupport.RandomFloats(32, 4);
        var scores = new float[24];
        model.Predict(inputs, 8, scores);
        var labels = new float[8];
        int expected = 0;
        for (int s = 0; s < 8; s++)
        {
            int best = Array.IndexOf(scores, scores.AsSpan(s * 3, 3).ToArray().Max(), s * 3) - s * 3;
            labels[s] = s % 2 == 0 ? best : (best + 1) % 3;
            if (s % 2 == 0) expected++;
        }
        var result = model.Evaluate(inputs, labels, 8);
        Assert.Equal(new ShardResult(result.LossSum, expected, 8), result);
        Assert.All(TestSupport.Download(model.Compute, model.Gradients), g => Assert.Equal(0f, g));
    }

    [Fact]
    public void BinaryAccuracyUsesTheLogitSign()
    {
        var model = Create("input: [2]\nloss: bce\nlayers: [{type: linear, out: 1}]", 4);
        model.Compute.Upload([1f, -1f, 0f], model.Parameters); // logit = x0 - x1
        var result = model.Evaluate([2f, 1f, 1f, 2f, 3f, 0f, 0f, 3f], [1f, 0f, 0f, 0f], 4);
        Assert.Equal(3, result.Correct);
        double expectedLoss = 2 * Math.Log(1 + Math.Exp(-1)) + Math.Log(1 + Math.Exp(3)) + Math.Log(1 + Math.Exp(-3));
        Assert.Equal(expectedLoss, result.LossSum, 5);
    }

    [Fact]
    public void RegressionReportsNoCorrectCount()
    {
        var model = Create("input: [2]\nloss: mse\nlayers: [{type: linear, out: 1}]", 2);
        Assert.Equal(0, model.Evaluate([1f, 2f, 3f, 4f], [0f, 0f], 2).Correct);
        Assert.Equal(1, model.TargetSize);
    }

    [Fact]
    public void PerceptronGradientUnderPlainSgdIsTheRosenblattRule()
    {
        var model = Model.Create(ModelSpec.Preset("perceptron", new Shape(3)), TestSupport.Cpu(), 1);
        var compute = model.Compute;
        float[] weights = [0.5f, -1f, 0.25f, 0.1f]; // w0..w2, bias
        compute.Upload(weights, model.Parameters);
        const float learningRate = 0.5f;
        float[][] samples = [[1f, 2f, -1f], [2f, 0.5f, 1f], [-1f, -1f, 3f], [0.5f, 0.5f, 0.5f]];
        float[] labels = [1f, 0f, 0f, 1f];
        int mistakes = 0;
        for (int s = 0; s < samples.Length; s++)
        {
            var x = samples[s];
            float z = weights[0] * x[0] + weights[1] * x[1] + weights[2] * x[2] + weights[3];
            float predicted = z >= 0 ? 1f : 0f;
            var expected = new float[4];
            for (int i = 0; i < 3; i++) expected[i] = weights[i] + learningRate * (labels[s] - predicted) * x[i];
            expected[3] = weights[3] + learningRate * (labels[s] - predicted);

            compute.Fill(model.Gradients, 0f);
            var result = model.TrainShard(x, [labels[s]], 1, Step);
            compute.Axpy(-learningRate, model.Gradients, model.Parameters); // SGD, no momentum, batch of 1
            weights = TestSupport.Download(compute, model.Parameters);

            Assert.Equal(expected, weights);
            Assert.Equal(predicted == labels[s] ? 1 : 0, result.Correct);
            Assert.Equal(predicted == labels[s] ? 0.0 : 0.5, result.LossSum);
            if (predicted != labels[s]) mistakes++;
        }
        Assert.True(mistakes >= 2, "the sequence must exercise both kinds of mistakes");
    }

    [Fact]
    public void L2PenalizesOnlyWeights()
    {
        var model = Create("input: [3]\nloss: mse\nlayers: [{type: linear, out: 2}, {type: batchnorm1d}, {type: prelu}, {type: linear, out: 1, bias: false}]", 1);
        var compute = model.Compute;
        var values = TestSupport.RandomFloats(model.Layout.TotalSize, 8);
        compute.Upload(values, model.Parameters);
        var gradients = compute.Allocate(model.Parameters.Shape);
        compute.Fill(gradients, 1f);
        model.ApplyL2(model.Parameters, gradients, 0.1f);
        var after = TestSupport.Download(compute, gradients);
        double penalty = 0;
        foreach (var p in model.Layout.Parameters)
        {
            for (int i = p.Offset; i < p.Offset + p.Length; i++)
            {
                float expected = p.Role == ParameterRole.Weight ? 1f + 0.1f * values[i] : 1f;
                Assert.Equal(expected, after[i], 6);
                if (p.Role == ParameterRole.Weight) penalty += 0.05 * values[i] * values[i];
            }
        }
        Assert.Equal(penalty, model.L2Penalty(model.Parameters, 0.1f), 6);
        Assert.Equal(0.0, model.L2Penalty(model.Parameters, 0f));
    }

    [Fact]
    public void ArgumentsAreCheckedWithClearMessages()
    {
        var model = Create("input: [2, 2]\nloss: cross_entropy\nlayers: [{type: flatten}, {type: linear, out: 3}]", 4);
        Assert.Contains("count must be in [1, 4]", Assert.Throws<ArgumentOutOfRangeException>(() => model.TrainShard(new float[20], new float[5], 5, Step)).Message);
        Assert.Contains("inputs holds 7 floats but 2 samples of shape [2, 2] need 8", Assert.Throws<ArgumentException>(() => model.Evaluate(new float[7], new float[2], 2)).Message);
        Assert.Contains("targets holds 3 floats but 2 samples of 1 need 2", Assert.Throws<ArgumentException>(() => model.Evaluate(new float[8], new float[3], 2)).Message);
        Assert.Contains("outputs holds 5 floats but 2 samples need 6", Assert.Throws<ArgumentException>(() => model.Predict(new float[8], 2, new float[5])).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Model.Create(model.Spec, model.Compute, 0));
        Assert.Contains("Target 1 is 3, but cross_entropy needs class indices 0..2", Assert.Throws<ArgumentException>(() => model.Evaluate(new float[8], [0f, 3f], 2)).Message);
        Assert.Contains("Target 0 is 0.5", Assert.Throws<ArgumentException>(() => model.TrainShard(new float[8], [0.5f, 1f], 2, Step)).Message);
        Assert.Contains("has 3 elements but this model's flat layout has 15", Assert.Throws<ArgumentException>(() => model.ApplyL2(Tensor.Zeros(3), model.Gradients, 1f)).Message);
    }

    [Theory]
    [InlineData("cnn")]
    [InlineData("resnet-small")]
    public void GradientsAreBitwiseTheSameWhateverTheThreadCount(string preset)
    {
        var spec = ModelSpec.Preset(preset);
        int count = 3;
        var inputs = TestSupport.RandomFloats(count * spec.Input.Size, 21);
        var labels = Enumerable.Range(0, count).Select(i => (float)(i * 7 % 10)).ToArray();
        int[] Gradients(int threads)
        {
            var model = Model.Create(spec, new ParallelNet.Tensors.Cpu.CpuCompute(threads), count);
            model.Initialize(77);
            model.TrainShard(inputs, labels, count, Step);
            return TestSupport.Download(model.Compute, model.Gradients).Select(BitConverter.SingleToInt32Bits).ToArray();
        }
        Assert.Equal(Gradients(1), Gradients(2));
        Assert.Equal(Gradients(1), Gradients(3));
    }

    [Fact]
    public void SkippingUnusedInputGradientsChangesNoParameterGradient()
    {
        const string yaml = "input: [2, 3]\nloss: cross_entropy\nlayers: [{type: flatten}, {type: dropout, p: 0.3}, {type: linear, out: 4}, {type: relu}, {type: linear, out: 3}]";
        var inputs = TestSupport.RandomFloats(4 * 6, 31);
        float[] labels = [2, 0, 1, 1];
        var lean = Create(yaml, 4);
        lean.TrainShard(inputs, labels, 4, Step);
        var full = Create(yaml, 4);
        full.RunShard(inputs, labels, 4, training: true, Step, backward: true, inputGradient: true);
        Assert.Null(lean.InputGradient);
        Assert.NotNull(full.InputGradient);
        Assert.Equal(TestSupport.Download(full.Compute, full.Gradients), TestSupport.Download(lean.Compute, lean.Gradients));
    }

    [Fact]
    public void BatchNormRefusesAOneValueStatistic()
    {
        var model = Create("input: [3]\nloss: mse\nlayers: [{type: batchnorm1d}]", 4);
        var e = Assert.Throws<InvalidOperationException>(() => model.TrainShard([1f, 2f, 3f], [0f, 0f, 0f], 1, Step));
        Assert.Contains("more than one value per channel", e.Message);
        Assert.Equal(1, model.Evaluate([1f, 2f, 3f], [0f, 0f, 0f], 1).Count); // eval uses the running statistics: fine
        var image = Create("input: [2, 2, 2]\nloss: mse\nlayers: [{type: batchnorm2d}]", 4);
        image.TrainShard(new float[8], new float[8], 1, Step); // one image still has 4 values per channel
    }

    [Fact]
    public void StepsDoNotAllocateBuffersPerStep()
    {
        // Buffers come from Model.Create; a step only takes cached views. Whatever a backend kernel may allocate
        // for bookkeeping, nothing per step may grow with the batch: compare 8 and 64 samples per step.
        const string yaml = "input: [1, 8, 8]\nloss: cross_entropy\nlayers: [{type: conv2d, out: 4, kernel: 3, padding: 1}, {type: batchnorm2d}, {type: relu}, {type: maxpool2d, kernel: 2}, {type: flatten}, {type: dropout, p: 0.3}, {type: linear, out: 5}]";
        long PerStep(int batch)
        {
            var model = Create(yaml, 64);
            var inputs = TestSupport.RandomFloats(batch * 64, 5);
            var labels = Enumerable.Range(0, batch).Select(i => (float)(i % 5)).ToArray();
            model.TrainShard(inputs, labels, batch, Step); // warm-up: views of this batch size get cached
            // The least of three windows: a one-off allocation on this thread (the runtime's, as its JIT tiers code up
            // later on a loaded machine: 1.1 KB once in CI) lands in one window, a per-step buffer in every one.
            long least = long.MaxValue;
            for (int window = 0; window < 3; window++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < 5; i++) model.TrainShard(inputs, labels, batch, Step with { Step = window * 5 + i });
                least = Math.Min(least, (GC.GetAllocatedBytesForCurrentThread() - before) / 5);
            }
            return least;
        }
        long small = PerStep(8), large = PerStep(64);
        // 64 samples of this model move ~100 KB of activations per step (8 samples ~12 KB); a reallocation would show as that much.
        Assert.True(Math.Abs(large - small) < 1024, $"a step allocated {small} bytes at batch 8 and {large} at batch 64");
        Assert.True(large < 4096, $"a step allocated {large} bytes");
    }

    [Fact]
    public void TheBetweenLayersHookRunsAfterEveryTopLevelLayerAndChangesNoBit()
    {
        // flatten, linear, relu, linear: four layers forward; backward from the last down to the first linear (three).
        const string yaml = "input: [2, 3]\nloss: cross_entropy\nlayers: [{type: flatten}, {type: linear, out: 5}, {type: relu}, {type: linear, out: 3}]";
        var inputs = TestSupport.RandomFloats(4 * 6, 8);
        float[] labels = [0, 1, 2, 1];
        var plain = Create(yaml, 4);
        var hooked = Create(yaml, 4);
        int calls = 0;
        hooked.BetweenLayers = () => calls++;

        var plainResult = plain.TrainShard(inputs, labels, 4, Step);
        var hookedResult = hooked.TrainShard(inputs, labels, 4, Step);

        Assert.Equal(4 + 3, calls);
        Assert.Equal(plainResult.LossSum, hookedResult.LossSum);
        Assert.Equal(TestSupport.Download(plain.Compute, plain.Gradients), TestSupport.Download(hooked.Compute, hooked.Gradients));
        hooked.BetweenLayers = null;
        hooked.TrainShard(inputs, labels, 4, Step);
        Assert.Equal(7, calls);
    }

    [Fact]
    public void SgdOnTheMlpShapeLowersTheLoss()
    {
        // Two Gaussian blobs in 10-D through a small relu/dropout/batch-norm net: 30 steps of plain SGD must cut the loss.
        var model = Create("input: [10]\nloss: cross_entropy\nlayers: [{type: linear, out: 16}, {type: batchnorm1d}, {type: relu}, {type: dropout, p: 0.1}, {type: linear, out: 2}]", 32, seed: 3);
        var noise = TestSupport.RandomFloats(32 * 10, 12);
        var inputs = new float[320];
        var labels = new float[32];
        for (int s = 0; s < 32; s++)
        {
            labels[s] = s % 2;
            for (int j = 0; j < 10; j++) inputs[s * 10 + j] = noise[s * 10 + j] + (s % 2 == 0 ? 1f : -1f);
        }
        var compute = model.Compute;
        double first = model.Evaluate(inputs, labels, 32).LossSum;
        for (int step = 0; step < 30; step++)
        {
            compute.Fill(model.Gradients, 0f);
            model.TrainShard(inputs, labels, 32, Step with { Step = step });
            foreach (var p in model.Layout.Parameters.Where(p => p.IsTrainable))
                compute.Axpy(-0.1f / 32, model.Gradients.View(p.Offset, p.Shape), model.Parameters.View(p.Offset, p.Shape));
        }
        var train = model.TrainShard(inputs, labels, 32, Step);
        Assert.True(train.LossSum < first / 4, $"loss went from {first} to {train.LossSum}");
        Assert.True(train.Correct >= 30);
    }
}

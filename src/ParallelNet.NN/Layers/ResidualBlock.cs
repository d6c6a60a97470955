using ParallelNet.NN.Initializers;
using ParallelNet.NN.Internal;
using ParallelNet.Tensors;

namespace ParallelNet.NN.Layers;

/// <summary>
/// ResNet basic block (He et al. 2016): y = relu(body(x) + shortcut(x)) with
/// body = conv1 (3x3, stride s, pad 1, no bias) → bn1 → relu → conv2 (3x3, pad 1, no bias) → bn2, and
/// shortcut = identity, or a projection conv 1x1 stride s (no bias) → batch norm when the stride or
/// the channel count changes. Parameter names follow this PyTorch module:
/// <code>
/// class BasicBlock(nn.Module):
///     def __init__(self, cin, cout, stride):
///         super().__init__()
///         self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False); self.bn1 = nn.BatchNorm2d(cout)
///         self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False);     self.bn2 = nn.BatchNorm2d(cout)
///         self.shortcut = nn.Sequential()
///         if stride != 1 or cin != cout:
///             self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
///     def forward(self, x):
///         out = F.relu(self.bn1(self.conv1(x)))
///         return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))
/// </code>
/// so names read "3.conv1.weight", "3.bn1.running_mean", "3.shortcut.0.weight", "3.shortcut.1.weight".
/// </summary>
internal sealed class ResidualBlock : Module
{
    private readonly Conv2d _conv1, _conv2;
    private readonly BatchNorm _bn1, _bn2;
    private readonly Activation _relu1;
    private readonly Conv2d? _projection;
    private readonly BatchNorm? _projectionNorm;
    private ICompute _compute = null!;
    private BatchBuffer _sum = null!, _output = null!, _sumGradient = null!, _inputGradient = null!;
    private Tensor _sumView = null!, _result = null!;

    public ResidualBlock(Shape inputShape, int outChannels, int stride, InitScheme init, float epsilon, float momentum) : base(inputShape)
    {
        if (inputShape.Rank != 3) throw new ArgumentException($"residual expects [channels, height, width] per sample but gets {inputShape}.");
        _conv1 = new Conv2d(inputShape, outChannels, 3, stride, 1, bias: false, init);
        _bn1 = new BatchNorm(_conv1.OutputShape, twoDimensional: true, epsilon, momentum);
        _relu1 = new Activation(_bn1.OutputShape, ActivationKind.Relu);
        _conv2 = new Conv2d(_relu1.OutputShape, outChannels, 3, 1, 1, bias: false, init);
        _bn2 = new BatchNorm(_conv2.OutputShape, twoDimensional: true, epsilon, momentum);
        if (stride != 1 || inputShape[0] != outChannels)
        {
            _projection = new Conv2d(inputShape, outChannels, 1, stride, 0, bias: false, init);
            _projectionNorm = new BatchNorm(_projection.OutputShape, twoDimensional: true, epsilon, momentum);
        }
        OutputShape = _bn2.OutputShape;
    }

    public bool HasProjection => _projection is not null;
    public override Shape OutputShape { get; }

    public override void DeclareParameters(ParameterRegistry registry, string prefix)
    {
        _conv1.DeclareParameters(registry, prefix + "conv1.");
        _bn1.DeclareParameters(registry, prefix + "bn1.");
        _conv2.DeclareParameters(registry, prefix + "conv2.");
        _bn2.DeclareParameters(registry, prefix + "bn2.");
        _projection?.DeclareParameters(registry, prefix + "shortcut.0.");
        _projectionNorm?.DeclareParameters(registry, prefix + "shortcut.1.");
    }

    public override void Bind(ICompute compute, int maxBatch)
    {
        _compute = compute;
        foreach (var m in new Module?[] { _conv1, _bn1, _relu1, _conv2, _bn2, _projection, _projectionNorm }) m?.Bind(compute, maxBatch);
        _sum = new BatchBuffer(compute, maxBatch, OutputShape);
        _output = new BatchBuffer(compute, maxBatch, OutputShape);
        _sumGradient = new BatchBuffer(compute, maxBatch, OutputShape);
        _inputGradient = new BatchBuffer(compute, maxBatch, InputShape);
    }

    // forward: x [n, C, H, W] -> y [n, out, oh, ow] = relu(body(x) + shortcut(x))
    public override Tensor Forward(Tensor x, in PassContext context)
    {
        int n = x.Shape[0];
        var body = _bn2.Forward(_conv2.Forward(_relu1.Forward(_bn1.Forward(_conv1.Forward(x, context), context), context), context), context);
        var shortcut = _projection is null ? x : _projectionNorm!.Forward(_projection.Forward(x, context), context);
        _sumView = _sum.Rows(n);
        _compute.Add(body, shortcut, _sumView);
        _result = _output.Rows(n);
        _compute.ActivationForward(ActivationKind.Relu, 0f, _sumView, _result);
        return _result;
    }

    // backward: dy [n, out, oh, ow] -> dsum = dy * relu'(sum); dx [n, C, H, W] = body'(dsum) + shortcut'(dsum)
    public override Tensor? Backward(Tensor dy, bool needInputGradient)
    {
        int n = dy.Shape[0];
        var dsum = _sumGradient.Rows(n);
        _compute.ActivationBackward(ActivationKind.Relu, 0f, _sumView, _result, dy, dsum);
        var dbody = _conv1.Backward(_bn1.Backward(_relu1.Backward(_conv2.Backward(_bn2.Backward(dsum, true)!, true)!, true)!, true)!, needInputGradient);
        Tensor? dshortcut = dsum;
        if (_projection is not null) dshortcut = _projection.Backward(_projectionNorm!.Backward(dsum, true)!, needInputGradient);
        if (!needInputGradient) return null;
        var dx = _inputGradient.Rows(n);
        _compute.Add(dbody!, dshortcut!, dx);
        return dx;
    }
}

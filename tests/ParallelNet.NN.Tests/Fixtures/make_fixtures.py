# Writes the PyTorch 1.13 fixtures the ParallelNet.NN tests compare against.
# Run from anywhere with the Debian interpreter (the one that has torch):
#   /usr/bin/python3 tests/ParallelNet.NN.Tests/Fixtures/make_fixtures.py
# Each case is a ParallelNet model spec (JSON, which ModelSpec.Parse reads as YAML), the equivalent
# torch.nn.Sequential built from it by torch_module() below, and a small random batch. A fixture holds
# the inputs, targets, every state_dict entry flattened in order (= ParallelNet's parameter layout),
# the outputs, the summed loss, and the gradients of that loss w.r.t. the inputs and the parameters.
import json, os, sys
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


class BasicBlock(nn.Module):
    """ParallelNet's 'residual' layer: the ResNet basic block with an optional 1x1 projection shortcut."""
    def __init__(self, cin, cout, stride, eps, momentum):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False); self.bn1 = nn.BatchNorm2d(cout, eps, momentum)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False); self.bn2 = nn.BatchNorm2d(cout, eps, momentum)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout, eps, momentum))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class Maxout(nn.Module):
    """ParallelNet's 'maxout': the maximum over groups of `pieces` consecutive features."""
    def __init__(self, pieces):
        super().__init__(); self.pieces = pieces

    def forward(self, x):
        return x.view(x.shape[0], -1, self.pieces).max(dim=2).values


class Step(nn.Module):
    """ParallelNet's 'step': Heaviside forward (1 at x >= 0), straight-through backward."""
    def forward(self, x):
        return x + (torch.heaviside(x, torch.tensor(1.0)) - x).detach()


def torch_module(spec):
    """The torch.nn.Sequential equivalent to a ParallelNet spec (same state_dict names and layouts)."""
    shape = list(spec["input"]); layers = []
    for layer in spec["layers"]:
        t = layer["type"]; o = {k: v for k, v in layer.items() if k != "type"}
        if t == "linear": m = nn.Linear(shape[0], int(o["out"]), bias=o.get("bias", True))
        elif t == "conv2d":
            pad = o.get("padding", 0); pad = (int(o["kernel"]) - 1) // 2 if pad == "same" else int(pad)
            m = nn.Conv2d(shape[0], int(o["out"]), int(o["kernel"]), int(o.get("stride", 1)), pad, bias=o.get("bias", True))
        elif t == "maxpool2d": m = nn.MaxPool2d(int(o["kernel"]), int(o.get("stride", o["kernel"])), int(o.get("padding", 0)))
        elif t == "avgpool2d": m = nn.AvgPool2d(int(o["kernel"]), int(o.get("stride", o["kernel"])), int(o.get("padding", 0)))
        elif t == "flatten": m = nn.Flatten()
        elif t == "dropout": m = nn.Dropout(float(o.get("p", 0.5)))
        elif t == "batchnorm1d": m = nn.BatchNorm1d(shape[0], float(o.get("eps", 1e-5)), float(o.get("momentum", 0.1)))
        elif t == "batchnorm2d": m = nn.BatchNorm2d(shape[0], float(o.get("eps", 1e-5)), float(o.get("momentum", 0.1)))
        elif t == "residual": m = BasicBlock(shape[0], int(o["out"]), int(o.get("stride", 1)), float(o.get("eps", 1e-5)), float(o.get("momentum", 0.1)))
        elif t == "sigmoid": m = nn.Sigmoid()
        elif t == "tanh": m = nn.Tanh()
        elif t == "relu": m = nn.ReLU()
        elif t == "leaky_relu": m = nn.LeakyReLU(float(o.get("alpha", 0.01)))
        elif t == "prelu": m = nn.PReLU(shape[0] if o.get("per_channel", False) else 1, float(o.get("init", 0.25)))
        elif t == "rrelu": m = nn.RReLU(float(o.get("lower", 1 / 8)), float(o.get("upper", 1 / 3)))
        elif t == "softmax": m = nn.Softmax(dim=1)
        elif t == "maxout": m = Maxout(int(o["pieces"]))
        elif t == "step": m = Step()
        else: raise ValueError(f"unknown layer type {t}")
        m.eval()
        with torch.no_grad(): shape = list(m(torch.zeros([2] + shape)).shape[1:])
        layers.append(m)
    return nn.Sequential(*layers)


def loss_sum(kind, out, target):
    if kind == "cross_entropy": return F.cross_entropy(out, target.long(), reduction="sum")
    if kind == "bce": return F.binary_cross_entropy_with_logits(out, target, reduction="sum")
    if kind in ("mse", "perceptron"): return 0.5 * ((out - target) ** 2).sum()
    if kind == "hinge": return F.multi_margin_loss(out, target.long(), margin=1, reduction="sum") * out.shape[1]  # torch divides by classes
    raise ValueError(kind)


def flat(tensors):
    return [float(v) for t in tensors for v in t.detach().double().reshape(-1).tolist()]


def make(name, spec, n, training, input_scale=1.0, away_from_zero=False):
    gen = torch.Generator().manual_seed(sum(map(ord, name)) * 7919)  # stable across runs, unlike hash()
    net = torch_module(spec)
    norm_keys = {f"{m}.{p}" for m, mod in net.named_modules() if isinstance(mod, nn.modules.batchnorm._BatchNorm) for p in ("weight", "bias")}
    with torch.no_grad():
        for key, value in net.state_dict().items():
            if key.endswith("num_batches_tracked"): continue
            if key.endswith("running_var"): value.copy_(0.5 + torch.rand(value.shape, generator=gen))
            elif key.endswith("running_mean"): value.copy_(0.3 * torch.randn(value.shape, generator=gen))
            elif key in norm_keys: value.copy_((1.0 if key.endswith("weight") else 0.0) + 0.3 * torch.randn(value.shape, generator=gen))
            elif "prelu" in spec["layers"][int(key.split(".")[0])]["type"]: value.copy_(0.1 + 0.3 * torch.rand(value.shape, generator=gen))
            else: value.copy_(0.5 * torch.randn(value.shape, generator=gen))
    state_before = flat(net.state_dict().values())
    x = input_scale * torch.randn([n] + spec["input"], generator=gen)
    if away_from_zero: x = x + 0.2 * torch.sign(x)
    x.requires_grad_(True)
    net.train(training)
    out = net(x)
    out2 = out.reshape(n, -1)
    loss = spec["loss"]
    if loss in ("cross_entropy", "hinge"): target = torch.randint(0, out2.shape[1], (n,), generator=gen).float()
    elif loss in ("bce", "perceptron"): target = torch.randint(0, 2, out2.shape, generator=gen).float()
    else: target = torch.randn(out2.shape, generator=gen)
    value = loss_sum(loss, out2, target)
    value.backward()
    params = dict(net.named_parameters())
    grads = [params[k].grad if k in params and params[k].grad is not None else torch.zeros_like(v)
             for k, v in net.state_dict().items()]
    fixture = {
        "name": name, "spec": json.dumps(spec), "training": training, "count": n,
        "input": flat([x]), "target": flat([target]), "parameters": state_before,
        "parameters_after_forward": flat(net.state_dict().values()),
        "names": list(net.state_dict().keys()),
        "output": flat([out]), "loss": float(value), "input_grad": flat([x.grad]), "parameter_grad": flat(grads),
    }
    with open(os.path.join(HERE, name + ".json"), "w") as f: json.dump(fixture, f)
    print(f"{name}: {len(state_before)} parameters, loss {float(value):.6f}")


def spec(input, layers, loss="mse"):
    return {"input": input, "loss": loss, "layers": layers}


def main():
    torch.set_num_threads(1)
    L = lambda t, **o: dict(type=t, **o)
    make("linear", spec([5], [L("linear", out=3)]), 4, True)
    make("linear_nobias", spec([7], [L("linear", out=2, bias=False)]), 3, True)
    make("conv2d_pad1", spec([2, 6, 5], [L("conv2d", out=3, kernel=3, padding=1)]), 3, True)
    make("conv2d_stride2", spec([2, 7, 7], [L("conv2d", out=4, kernel=3, stride=2)]), 2, True)
    make("conv2d_same5", spec([1, 6, 6], [L("conv2d", out=2, kernel=5, padding="same")]), 2, True)
    make("maxpool2d", spec([2, 6, 6], [L("maxpool2d", kernel=2)]), 3, True)
    make("maxpool2d_overlap_pad", spec([2, 7, 7], [L("maxpool2d", kernel=3, stride=2, padding=1)]), 2, True)
    make("avgpool2d", spec([2, 6, 6], [L("avgpool2d", kernel=2)]), 3, True)
    make("avgpool2d_overlap_pad", spec([2, 7, 7], [L("avgpool2d", kernel=3, stride=2, padding=1)]), 2, True)
    make("flatten_linear", spec([2, 3, 3], [L("flatten"), L("linear", out=4)]), 3, True)
    make("dropout_eval", spec([6], [L("dropout", p=0.3), L("linear", out=2)]), 3, False)
    make("batchnorm1d_train", spec([4], [L("batchnorm1d")]), 5, True)
    make("batchnorm1d_eval", spec([4], [L("batchnorm1d")]), 5, False)
    make("batchnorm1d_seq_train", spec([3, 4], [L("batchnorm1d")]), 3, True)
    make("batchnorm2d_train", spec([3, 4, 5], [L("batchnorm2d")]), 3, True)
    make("batchnorm2d_eval", spec([3, 4, 5], [L("batchnorm2d", momentum=0.2, eps=0.001)]), 3, False)
    make("residual_projection_train", spec([2, 6, 6], [L("residual", out=3, stride=2)]), 3, True)
    make("residual_identity_train", spec([3, 5, 5], [L("residual", out=3)]), 3, True)
    make("residual_projection_eval", spec([2, 6, 6], [L("residual", out=4)]), 2, False)
    make("sigmoid", spec([7], [L("sigmoid")]), 3, True, input_scale=2.0)
    make("tanh", spec([7], [L("tanh")]), 3, True, input_scale=2.0)
    make("relu", spec([2, 3, 3], [L("relu")]), 3, True, away_from_zero=True)
    make("leaky_relu", spec([7], [L("leaky_relu", alpha=0.1)]), 3, True, away_from_zero=True)
    make("prelu_single", spec([2, 3, 3], [L("prelu")]), 3, True, away_from_zero=True)
    make("prelu_per_channel", spec([3, 2, 2], [L("prelu", per_channel=True, init=0.1)]), 3, True, away_from_zero=True)
    make("prelu_features", spec([5], [L("prelu", per_channel=True)]), 4, True, away_from_zero=True)
    make("rrelu_eval", spec([7], [L("rrelu")]), 3, False, away_from_zero=True)
    make("softmax", spec([5], [L("softmax")]), 3, True)
    make("maxout", spec([6], [L("maxout", pieces=3)]), 4, True)
    make("perceptron", spec([4], [L("linear", out=1), L("step")], loss="perceptron"), 6, True, away_from_zero=True)
    make("loss_cross_entropy", spec([5], [L("linear", out=4)], loss="cross_entropy"), 5, True)
    make("loss_bce", spec([5], [L("linear", out=3)], loss="bce"), 4, True)
    make("loss_mse", spec([5], [L("linear", out=2)], loss="mse"), 4, True)
    make("loss_hinge", spec([5], [L("linear", out=4)], loss="hinge"), 5, True, input_scale=0.3)
    make("small_cnn_train", spec([1, 8, 8], [L("conv2d", out=3, kernel=3), L("relu"), L("maxpool2d", kernel=2), L("batchnorm2d"),
                                             L("flatten"), L("linear", out=4), L("tanh"), L("linear", out=3)], loss="cross_entropy"), 4, True)


if __name__ == "__main__":
    main()

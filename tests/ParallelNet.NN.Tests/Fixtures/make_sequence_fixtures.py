# Writes the PyTorch 1.13 fixtures of the sequence layers (embedding, rnn, lstm) for the ParallelNet.NN tests.
# Run with the Debian interpreter (the one that has torch):
#   /usr/bin/python3 tests/ParallelNet.NN.Tests/Fixtures/make_sequence_fixtures.py
# Same fixture format as make_fixtures.py (whose helpers it reuses); the differences: token-id inputs for
# embeddings (their input gradient is zero, as ids are not differentiable), and the recurrent layers below.
import json, os, sys
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as base


def recurrent(torch_class):
    """ParallelNet's 'rnn'/'lstm': torch.nn.RNN/LSTM (one layer, batch_first, zero initial state) that returns the
    last step or every step, and with truncate = k detaches the state every k steps (truncated BPTT)."""
    class Recurrent(torch_class):
        def __init__(self, input_size, hidden, return_sequences, truncate):
            super().__init__(input_size, hidden, batch_first=True)
            self.return_sequences, self.truncate = return_sequences, truncate

        def forward(self, x):
            x = x.reshape(x.shape[0], x.shape[-2], x.shape[-1])  # a one-channel image [n, 1, rows, cols] is read row by row
            k = self.truncate or x.shape[1]; state = None; outputs = []
            for start in range(0, x.shape[1], k):
                if state is not None: state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
                out, state = super().forward(x[:, start:start + k], state)
                outputs.append(out)
            out = torch.cat(outputs, 1)
            return out if self.return_sequences else out[:, -1]
    return Recurrent


RNN, LSTM = recurrent(nn.RNN), recurrent(nn.LSTM)


class Word2Vec(nn.Module):
    """ParallelNet's 'word2vec' layer: ids [n, C + 1 + k]; the mean of the in_embed rows of the C context ids
    (-1 pads) dotted with the out_embed rows of the other ids."""
    def __init__(self, vocabulary, dim, contexts):
        super().__init__()
        self.in_embed, self.out_embed, self.contexts = nn.Embedding(vocabulary, dim), nn.Embedding(vocabulary, dim), contexts

    def forward(self, ids):
        ids = ids.long(); context = ids[:, :self.contexts]; present = (context >= 0).float()
        hidden = (self.in_embed(context.clamp(min=0)) * present[..., None]).sum(1) / present.sum(1, keepdim=True)
        return (self.out_embed(ids[:, self.contexts:]) * hidden[:, None, :]).sum(-1)


def torch_module(spec):
    shape = list(spec["input"]); layers = []
    for layer in spec["layers"]:
        t = layer["type"]; o = {k: v for k, v in layer.items() if k != "type"}
        if t == "embedding": m = nn.Embedding(int(o["vocabulary"]), int(o["dim"])); shape = shape + [int(o["dim"])]
        elif t == "word2vec":
            contexts = int(o.get("contexts", 1)); m = Word2Vec(int(o["vocabulary"]), int(o["dim"]), contexts); shape = [shape[0] - contexts]
        elif t in ("rnn", "lstm"):
            m = (RNN if t == "rnn" else LSTM)(shape[-1], int(o["hidden"]), bool(o.get("return_sequences", False)), int(o.get("truncate", 0)))
            shape = [shape[-2], int(o["hidden"])] if o.get("return_sequences", False) else [int(o["hidden"])]
        elif t == "linear" and len(shape) == 2: m = nn.Linear(shape[-1], int(o["out"]), bias=o.get("bias", True)); shape = [shape[0], int(o["out"])]
        else:
            m = base.torch_module({"input": shape, "layers": [layer]})[0]
            with torch.no_grad(): shape = list(m(torch.zeros([2] + shape)).shape[1:])
        layers.append(m)
    return nn.Sequential(*layers)


def make(name, spec, n, training=True, vocabulary=None, padded_contexts=0):
    gen = torch.Generator().manual_seed(sum(map(ord, name)) * 7919)
    net = torch_module(spec)
    with torch.no_grad():
        for value in net.state_dict().values(): value.copy_(0.5 * torch.randn(value.shape, generator=gen))
    state_before = base.flat(net.state_dict().values())
    if vocabulary:
        x = torch.randint(0, vocabulary, [n] + spec["input"], generator=gen)
        for s in range(n): x[s, 1:1 + min(s, padded_contexts - 1)] = -1  # short windows: the first context id stays
    else:
        x = torch.randn([n] + spec["input"], generator=gen).requires_grad_(True)
    net.train(training)
    out = net(x)
    out2 = out.reshape(n, -1)
    if spec["loss"] == "cross_entropy" and out.dim() == 3:  # a many-to-many head: one label per step
        out2 = out.reshape(-1, out.shape[-1]); target = torch.randint(0, out.shape[-1], (out2.shape[0],), generator=gen).float()
    elif spec["loss"] == "cross_entropy": target = torch.randint(0, out2.shape[1], (n,), generator=gen).float()
    elif spec["loss"] == "bce": target = torch.zeros(out2.shape); target[:, 0] = 1  # the word to predict, then noise words
    else: target = torch.randn(out2.shape, generator=gen)
    value = base.loss_sum(spec["loss"], out2, target)
    value.backward()
    params = dict(net.named_parameters())
    grads = [params[k].grad for k in net.state_dict().keys()]
    fixture = {
        "name": name, "spec": json.dumps(spec), "training": training, "count": n,
        "input": base.flat([x]), "target": base.flat([target]), "parameters": state_before,
        "parameters_after_forward": base.flat(net.state_dict().values()),
        "names": list(net.state_dict().keys()),
        "output": base.flat([out]), "loss": float(value),
        "input_grad": [0.0] * x.numel() if vocabulary else base.flat([x.grad]), "parameter_grad": base.flat(grads),
    }
    with open(os.path.join(base.HERE, name + ".json"), "w") as f: json.dump(fixture, f)
    print(f"{name}: {len(state_before)} parameters, loss {float(value):.6f}")


def main():
    torch.set_num_threads(1)
    L = lambda t, **o: dict(type=t, **o)
    spec = base.spec
    make("embedding", spec([5], [L("embedding", vocabulary=7, dim=3)]), 3, vocabulary=7)
    make("embedding_lstm_classifier", spec([6], [L("embedding", vocabulary=9, dim=4), L("lstm", hidden=5), L("linear", out=3)], loss="cross_entropy"), 4, vocabulary=9)
    make("word2vec_skipgram", spec([7], [L("word2vec", vocabulary=8, dim=4)], loss="bce"), 3, vocabulary=8)
    make("word2vec_cbow", spec([9], [L("word2vec", vocabulary=8, dim=4, contexts=4)], loss="bce"), 4, vocabulary=8, padded_contexts=4)
    make("rnn_last", spec([4, 3], [L("rnn", hidden=5)]), 3)
    make("rnn_sequences_linear", spec([5, 3], [L("rnn", hidden=4, return_sequences=True), L("linear", out=2)]), 2)
    make("rnn_truncated", spec([6, 2], [L("rnn", hidden=3, return_sequences=True, truncate=2)]), 3)
    make("lstm_last", spec([5, 3], [L("lstm", hidden=4)]), 3)
    make("lstm_sequences", spec([4, 3], [L("lstm", hidden=6, return_sequences=True)]), 2)
    make("lstm_truncated", spec([7, 2], [L("lstm", hidden=3, return_sequences=True, truncate=3)]), 3)
    make("lstm_truncated_last", spec([7, 2], [L("lstm", hidden=3, truncate=2)]), 2)
    make("lstm_per_step_cross_entropy", spec([5, 3], [L("lstm", hidden=4, return_sequences=True), L("linear", out=3)], loss="cross_entropy"), 3)
    make("lstm_image_classifier", spec([1, 6, 5], [L("lstm", hidden=4), L("linear", out=3)], loss="cross_entropy"), 4)


if __name__ == "__main__":
    main()

# PyTorch 1.13 peer for `parallelnet bench train`: the same models, batch, optimizer and data as
# ParallelNet's presets (see ../../../../shared/reference/torch_mnist.py), timing steady-state steps.
# Usage: /usr/bin/python3 torch_peer.py MNIST_DIR mlp|cnn|lstm THREADS BATCH WARMUP_STEPS STEPS
import gzip, json, os, sys, time
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F

def idx(root, name):
    for path in (os.path.join(root, name), os.path.join(root, name + '.gz')):
        if os.path.exists(path):
            data = (gzip.open if path.endswith('.gz') else open)(path, 'rb').read()
            n = int.from_bytes(data[4:8], 'big')
            return np.frombuffer(data, np.uint8, offset=16).reshape(n, 28, 28) if data[3] == 3 else np.frombuffer(data, np.uint8, offset=8)
    sys.exit(f"torch_peer: {name} not found in {root}")

root, kind, threads, batch, warmup, steps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
torch.set_num_threads(threads); torch.manual_seed(0)
x = (torch.tensor(idx(root, 'train-images-idx3-ubyte'), dtype=torch.float32) / 255. - 0.1307) / 0.3081
y = torch.tensor(idx(root, 'train-labels-idx1-ubyte'), dtype=torch.long)
if kind == 'mlp':
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Dropout(0.2), nn.Linear(512, 512), nn.ReLU(), nn.Dropout(0.2), nn.Linear(512, 10))
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
elif kind == 'cnn':
    net = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.5), nn.Linear(1600, 10))
    x = x.unsqueeze(1)
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
elif kind == 'lstm':
    # /work/shared/reference/torch_lstm.py's network: 28 rows of 28 pixels, LSTM 128, linear head on the last step.
    # Same optimizer as every bench train row (SGD, see TrainBenchmark); the recipe's Adam costs the same per step.
    class Lstm(nn.Module):
        def __init__(self): super().__init__(); self.l = nn.LSTM(28, 128, batch_first=True); self.o = nn.Linear(128, 10)
        def forward(self, x): h, _ = self.l(x); return self.o(h[:, -1])
    net = Lstm()
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
else:
    sys.exit(f"torch_peer: unknown model {kind}")
net.train()
perm = torch.randperm(len(x))
def run(first, count):
    for s in range(first, first + count):
        i = (s * batch) % (len(x) - batch)
        ix = perm[i:i + batch]
        opt.zero_grad(); loss = F.cross_entropy(net(x[ix]), y[ix]); loss.backward(); opt.step()
run(0, warmup)
t0 = time.perf_counter(); run(warmup, steps); dt = time.perf_counter() - t0
print(json.dumps({"model": kind, "threads": threads, "batch": batch, "steps": steps, "seconds": dt, "samples_per_second": steps * batch / dt}))

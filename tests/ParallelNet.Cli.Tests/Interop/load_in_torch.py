# Loads a ParallelNet checkpoint into the equivalent torch.nn.Sequential (PyTorch 1.13) without the
# safetensors package: header parsed by hand, tensors by numpy. Prints the test accuracy as JSON.
# Usage: /usr/bin/python3 load_in_torch.py CHECKPOINT MNIST_DIR mlp|cnn|lstm
import gzip, json, os, struct, sys
import numpy as np, torch, torch.nn as nn

path, root, kind = sys.argv[1], sys.argv[2], sys.argv[3]
raw = open(path, 'rb').read()
(header_len,) = struct.unpack('<Q', raw[:8])
header = json.loads(raw[8:8 + header_len])
data = raw[8 + header_len:]
state = {}
for name, entry in header.items():
    if name == '__metadata__' or name.startswith('optimizer/'):
        continue
    begin, end = entry['data_offsets']
    state[name] = torch.from_numpy(np.frombuffer(data[begin:end], dtype='<f4').reshape(entry['shape']).copy())

if kind == 'mlp':
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Dropout(0.2), nn.Linear(512, 512), nn.ReLU(), nn.Dropout(0.2), nn.Linear(512, 10))
elif kind == 'lstm':
    class LastStep(nn.LSTM):
        """torch_lstm.py's LSTM as a Sequential child: rows of the image are the steps, the last hidden state is the output."""
        def forward(self, x): return super().forward(x.reshape(x.shape[0], 28, 28))[0][:, -1]
    net = nn.Sequential(LastStep(28, 128, batch_first=True), nn.Linear(128, 10))
else:
    net = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.5), nn.Linear(1600, 10))
net.load_state_dict(state, strict=True)
net.eval()

def idx(name):
    for p in (os.path.join(root, name), os.path.join(root, name + '.gz')):
        if os.path.exists(p):
            d = (gzip.open if p.endswith('.gz') else open)(p, 'rb').read()
            n = int.from_bytes(d[4:8], 'big')
            return np.frombuffer(d, np.uint8, offset=16).reshape(n, 1, 28, 28) if d[3] == 3 else np.frombuffer(d, np.uint8, offset=8)
    sys.exit(f'{name} not found in {root}')

x = (torch.tensor(idx('t10k-images-idx3-ubyte'), dtype=torch.float32) / 255. - 0.1307) / 0.3081
y = torch.tensor(idx('t10k-labels-idx1-ubyte'), dtype=torch.long)
with torch.no_grad():
    accuracy = (net(x).argmax(1) == y).float().mean().item()
print(json.dumps({'test_accuracy': accuracy, 'parameters': sum(t.numel() for t in state.values())}))

# PyTorch 1.13 peer for the word2vec speed comparison: skip-gram with negative sampling on the same corpus file and
# settings as `parallelnet word2vec` (dim, window with uniformly shrunk reach, k noise words from unigram^0.75,
# subsampling threshold, min count, linearly decaying SGD learning rate), the usual batched formulation: pairs are
# built with numpy per chunk of the corpus, embeddings are sparse nn.Embedding tables updated by SGD.
# Usage: /usr/bin/python3 torch_word2vec.py CORPUS THREADS [DIM WINDOW NEGATIVES MIN_COUNT SUBSAMPLE LR BATCH]
# Prints one JSON line: words, seconds, words_per_second (corpus words after min count, one epoch).
# To make a corpus: /usr/bin/python3 torch_word2vec.py --make-corpus FILE WORDS VOCABULARY (Zipf-distributed words).
import collections, json, re, sys, time
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F

if sys.argv[1] == '--make-corpus':
    path, words, vocabulary = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    rng = np.random.default_rng(0)
    ranks = np.arange(1, vocabulary + 1); p = 1.0 / ranks; p /= p.sum()
    ids = rng.choice(vocabulary, size=words, p=p)
    with open(path, 'w') as f:
        for start in range(0, words, 20): f.write(' '.join(f'w{i}' for i in ids[start:start + 20]) + '\n')
    sys.exit(0)

corpus = sys.argv[1]; threads = int(sys.argv[2])
dim, window, k, min_count, t, lr0, batch = (int(sys.argv[3]) if len(sys.argv) > 3 else 100, int(sys.argv[4]) if len(sys.argv) > 4 else 5,
    int(sys.argv[5]) if len(sys.argv) > 5 else 5, int(sys.argv[6]) if len(sys.argv) > 6 else 5, float(sys.argv[7]) if len(sys.argv) > 7 else 1e-3,
    float(sys.argv[8]) if len(sys.argv) > 8 else 0.025, int(sys.argv[9]) if len(sys.argv) > 9 else 4096)
torch.set_num_threads(threads); torch.manual_seed(0); rng = np.random.default_rng(0)
sentences = [re.findall(r"[\w'-]+", line.lower()) for line in open(corpus, encoding='utf-8')]
counts = collections.Counter(w for s in sentences for w in s)
vocab = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w)); ids = {w: i for i, w in enumerate(vocab)}
stream = np.array([ids[w] for s in sentences for w in s if w in ids], dtype=np.int64)
freq = np.array([counts[w] for w in vocab], dtype=np.float64); freq /= freq.sum()
keep = np.minimum(1.0, (np.sqrt(freq / t) + 1) * t / freq) if t > 0 else np.ones_like(freq)
noise = torch.tensor(np.array([counts[w] for w in vocab], dtype=np.float64) ** 0.75)
V = len(vocab)
inp = nn.Embedding(V, dim, sparse=True); out = nn.Embedding(V, dim, sparse=True)
with torch.no_grad(): inp.weight.uniform_(-0.5 / dim, 0.5 / dim); out.weight.zero_()
opt = torch.optim.SGD(list(inp.parameters()) + list(out.parameters()), lr=lr0)

t0 = time.perf_counter(); chunk = 100_000; done = 0
for start in range(0, len(stream), chunk):
    words = stream[start:start + chunk]
    words = words[rng.random(len(words)) < keep[words]]
    reach = rng.integers(1, window + 1, size=len(words))
    centers, contexts = [], []
    for o in range(1, window + 1):
        ok = reach >= o
        a = np.nonzero(ok[:-o])[0]; centers.append(words[a]); contexts.append(words[a + o])
        b = np.nonzero(ok[o:])[0] + o; centers.append(words[b]); contexts.append(words[b - o])
    centers = torch.from_numpy(np.concatenate(centers)); contexts = torch.from_numpy(np.concatenate(contexts))
    order = torch.randperm(len(centers)); centers, contexts = centers[order], contexts[order]
    for g in opt.param_groups: g['lr'] = lr0 * max(1e-4, 1 - start / len(stream))
    for i in range(0, len(centers), batch):
        c, o = centers[i:i + batch], contexts[i:i + batch]
        negatives = torch.multinomial(noise, len(c) * k, replacement=True).view(len(c), k)
        h = inp(c)
        positive = (h * out(o)).sum(1)
        negative = torch.bmm(out(negatives), h.unsqueeze(2)).squeeze(2)
        loss = -(F.logsigmoid(positive).sum() + F.logsigmoid(-negative).sum())
        opt.zero_grad(); loss.backward(); opt.step()
    done += min(chunk, len(stream) - start)
dt = time.perf_counter() - t0
print(json.dumps({"model": "word2vec", "threads": threads, "words": int(done), "seconds": dt, "words_per_second": done / dt}))

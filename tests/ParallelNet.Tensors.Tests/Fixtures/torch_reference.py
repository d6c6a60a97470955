#!/usr/bin/python3
"""Prints the PyTorch 1.13 values hard-coded in Kernels/TorchReferenceTests.cs (run with /usr/bin/python3)."""
import torch
import torch.nn.functional as F

torch.set_printoptions(precision=9)


def show(name, t):
    values = t.detach().flatten().tolist() if torch.is_tensor(t) else [t]
    print(name, "[" + ", ".join(repr(float(v)) + "f" for v in values) + "]")


logits = torch.tensor([[1.0, 2.0, 0.5], [-3.0, 0.0, 4.0]], requires_grad=True)
labels = torch.tensor([2, 0])
loss = F.cross_entropy(logits, labels, reduction="sum")
loss.backward()
show("cross_entropy_sum", loss)
show("cross_entropy_grad", logits.grad)

x = torch.tensor([-100.0, -2.0, 0.0, 3.0, 50.0], requires_grad=True)
t = torch.tensor([0.0, 1.0, 0.5, 1.0, 0.0])
loss = F.binary_cross_entropy_with_logits(x, t, reduction="sum")
loss.backward()
show("bce_sum", loss)
show("bce_grad", x.grad)

scores = torch.tensor([[1.0, 2.0, 0.5, 1.8], [0.2, -1.0, 0.3, 0.0]], requires_grad=True)
labels = torch.tensor([1, 2])
loss = F.multi_margin_loss(scores, labels, p=1, margin=1.0, reduction="sum") * scores.shape[1]
loss.backward()
show("hinge_sum", loss)
show("hinge_grad", scores.grad)

xb = torch.tensor([[[1.0, 2.0], [0.5, -1.0]], [[3.0, -2.0], [0.0, 4.0]], [[-1.0, 0.5], [2.0, 2.5]]], requires_grad=True)
gamma = torch.tensor([1.5, -0.5], requires_grad=True)
beta = torch.tensor([0.1, 0.2], requires_grad=True)
rm, rv = torch.zeros(2), torch.ones(2)
yb = F.batch_norm(xb, rm, rv, gamma, beta, training=True, momentum=1.0, eps=1e-5)
dyb = torch.tensor([[[0.3, -0.2], [1.0, 0.5]], [[-0.7, 0.1], [0.2, -0.4]], [[0.6, 0.9], [-1.2, 0.8]]])
yb.backward(dyb)
show("bn_y", yb)
show("bn_unbiased_var", rv)
show("bn_dx", xb.grad)
show("bn_dgamma", gamma.grad)
show("bn_dbeta", beta.grad)

grads = [torch.tensor([0.1, -0.2, 0.3]), torch.tensor([-0.5, 0.4, 0.0]), torch.tensor([0.2, 0.2, -0.1])]
for name, make in [
    ("sgd_nesterov", lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True)),
    ("adam", lambda p: torch.optim.Adam([p], lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)),
    ("adamw", lambda p: torch.optim.AdamW([p], lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)),
]:
    p = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)
    opt = make(p)
    for g in grads:
        p.grad = g.clone()
        opt.step()
    show(name, p)

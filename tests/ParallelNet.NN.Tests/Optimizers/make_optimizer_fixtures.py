#!/usr/bin/python3
"""Writes optimizer_fixtures.json next to this script: PyTorch 1.13 optimizer trajectories.

Run with /usr/bin/python3 (the interpreter that has python3-torch):
    /usr/bin/python3 tests/ParallelNet.NN.Tests/Optimizers/make_optimizer_fixtures.py

Every case starts from the same parameters and feeds the same five mean gradients; it records
the parameters and the optimizer state after each step, the learning rate each step used and,
for clipping cases, the norm clip_grad_norm_ returned. Schedulers step once per optimizer step,
which is how ParallelNet schedules.
"""
import json
import os

import torch

STEPS = 5
SHAPES = [("0.weight", [3, 4]), ("0.bias", [3]), ("2.weight", [2, 3])]

CASES = [
    # name, optimizer, optimizer kwargs, scheduler, clipping
    ("sgd_plain", "sgd", dict(lr=0.1), None, None),
    ("sgd_weight_decay_no_momentum", "sgd", dict(lr=0.1, weight_decay=0.05), None, None),
    ("sgd_momentum", "sgd", dict(lr=0.1, momentum=0.9), None, None),
    ("sgd_nesterov", "sgd", dict(lr=0.1, momentum=0.9, nesterov=True), None, None),
    ("sgd_momentum_weight_decay", "sgd", dict(lr=0.1, momentum=0.9, weight_decay=0.05), None, None),
    ("adam", "adam", dict(lr=0.01), None, None),
    ("adam_weight_decay", "adam", dict(lr=0.01, weight_decay=0.1), None, None),
    ("adamw", "adamw", dict(lr=0.01, weight_decay=0.1), None, None),
    ("adam_betas", "adam", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6), None, None),
    ("steplr", "sgd", dict(lr=0.1, momentum=0.9), ("step", dict(step_size=2, gamma=0.5)), None),
    ("cosine", "sgd", dict(lr=0.1, momentum=0.9), ("cosine", dict(T_max=STEPS, eta_min=0.01)), None),
    ("adam_cosine", "adam", dict(lr=0.01), ("cosine", dict(T_max=STEPS, eta_min=0.0)), None),
    ("clip_norm", "sgd", dict(lr=0.1, momentum=0.9), None, ("norm", 2.0)),
    ("clip_norm_inactive", "sgd", dict(lr=0.1), None, ("norm", 1000.0)),
    ("clip_value", "sgd", dict(lr=0.1, momentum=0.9), None, ("value", 0.3)),
]

STATE_KEYS = {"sgd": ["momentum_buffer"], "adam": ["exp_avg", "exp_avg_sq"], "adamw": ["exp_avg", "exp_avg_sq"]}


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def main():
    torch.manual_seed(20261122)
    initial = [torch.randn(shape) for _, shape in SHAPES]
    # Gradient scales differ per step so that clipping is active on some steps only.
    gradients = [[torch.randn(shape) * (0.3 + 0.4 * step) for _, shape in SHAPES] for step in range(STEPS)]

    cases = []
    for name, kind, kwargs, schedule, clip in CASES:
        params = [torch.nn.Parameter(t.clone()) for t in initial]
        optimizer = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[kind](params, **kwargs)
        scheduler = None
        if schedule is not None:
            if schedule[0] == "step":
                scheduler = torch.optim.lr_scheduler.StepLR(optimizer, **schedule[1])
            else:
                scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, **schedule[1])
        steps = []
        for step in range(STEPS):
            for p, g in zip(params, gradients[step]):
                p.grad = g.clone()
            record = {"lr": optimizer.param_groups[0]["lr"]}
            if clip is not None and clip[0] == "norm":
                record["norm"] = float(torch.nn.utils.clip_grad_norm_(params, clip[1]))
            elif clip is not None:
                torch.nn.utils.clip_grad_value_(params, clip[1])
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            record["parameters"] = [flat(p) for p in params]
            state = {}
            for (pname, _), p in zip(SHAPES, params):
                for key in STATE_KEYS[kind]:
                    value = optimizer.state[p].get(key)
                    if value is not None:
                        state[f"{pname}.{key}"] = flat(value)
            record["state"] = state
            steps.append(record)

        options = {
            "kind": {"sgd": "Sgd", "adam": "Adam", "adamw": "AdamW"}[kind],
            "lr": kwargs["lr"],
            "momentum": kwargs.get("momentum", 0.0),
            "nesterov": kwargs.get("nesterov", False),
            "weight_decay": kwargs.get("weight_decay", 0.0),
            "beta1": kwargs.get("betas", (0.9, 0.999))[0],
            "beta2": kwargs.get("betas", (0.9, 0.999))[1],
            "eps": kwargs.get("eps", 1e-8),
            "clip_norm": clip[1] if clip is not None and clip[0] == "norm" else 0.0,
            "clip_value": clip[1] if clip is not None and clip[0] == "value" else 0.0,
        }
        if schedule is not None and schedule[0] == "step":
            options["schedule"] = {"type": "step", "step_size": schedule[1]["step_size"], "gamma": schedule[1]["gamma"]}
        elif schedule is not None:
            options["schedule"] = {"type": "cosine", "min_factor": schedule[1]["eta_min"] / kwargs["lr"]}
        cases.append({"name": name, "options": options, "steps": steps})

    fixture = {
        "torch_version": torch.__version__,
        "total_steps": STEPS,
        "parameters": [{"name": n, "shape": s, "values": flat(t)} for (n, s), t in zip(SHAPES, initial)],
        "gradients": [[flat(g) for g in step] for step in gradients],
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optimizer_fixtures.json")
    with open(path, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {path}")


if __name__ == "__main__":
    main()

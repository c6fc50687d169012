"""Prune an MLP on sklearn's digits with L0 gates, against magnitude pruning.

Trains the same 64-256-256-10 network three ways from the same initial
weights:

* dense, with plain ``nn.Linear`` layers;
* with ``skl0.nn.L0Linear(gate="input")`` layers (one gate per input unit,
  so whole neurons switch off) and ``l0_penalty`` in the loss, then
  ``skl0.nn.prune`` turns it into a smaller plain network;
* the same with ``gate="weight"`` (one gate per weight, unstructured).

No L0 model is fine-tuned after pruning. For each, the dense network is
pruned by global magnitude (``torch.nn.utils.prune.global_unstructured`` with
``L1Unstructured``) to the same number of remaining weights, once without
fine-tuning and once fine-tuned with its mask fixed. The table shows weights
kept, stored parameters (a masked weight is still stored), test accuracy and
inference time on a batch of 1024 rows, single-threaded.

Usage::

    python examples/torch_pruning.py           # full run, about 15 s on 2 CPU cores
    python examples/torch_pruning.py --quick   # small run for CI (< 30 s)

``SKL0_QUICK=1`` in the environment also selects the quick run. All noise
(initial weights, gate noise, batch order) comes from seeded local
``torch.Generator`` objects, so the results do not depend on torch's global
RNG; building the layers still advances it (their own initialisation draws
from it before ``build`` overwrites the weights).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from dataclasses import dataclass

import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from torch import nn
from torch.nn import functional as F
from torch.nn.utils import prune as torch_prune

from skl0.nn import L0Linear, l0_penalty, prune, set_generator

SEED = 0


@dataclass
class Config:
    hidden: int = 256
    epochs: int = 100
    finetune_epochs: int = 20
    batch_size: int = 128
    lr: float = 3e-3
    gate_lr: float = 0.05
    lam_input: float = 4.0  # cost of one open gate, per training sample
    lam_weight: float = 0.1
    timing_repeats: int = 200


QUICK = Config(hidden=64, epochs=15, finetune_epochs=5, timing_repeats=30)


def load_data():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=SEED, stratify=y
    )
    scaler = StandardScaler().fit(X_train)

    def as_tensor(a):
        return torch.tensor(a, dtype=torch.float32)

    return (
        as_tensor(scaler.transform(X_train)),
        torch.tensor(y_train),
        as_tensor(scaler.transform(X_test)),
        torch.tensor(y_test),
    )


def build(hidden, layer=nn.Linear, seed=SEED):
    """The MLP, initialised like ``nn.Linear`` but from a local generator."""
    model = nn.Sequential(
        layer(64, hidden),
        nn.ReLU(),
        layer(hidden, hidden),
        nn.ReLU(),
        layer(hidden, 10),
    )
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model:
            if isinstance(m, nn.Linear):
                # nn.Linear's own init, kaiming_uniform_(a=sqrt(5)), is
                # U(-1/sqrt(fan_in), 1/sqrt(fan_in)); drawn with uniform_,
                # whose generator argument every supported torch accepts.
                bound = 1 / math.sqrt(m.in_features)
                m.weight.uniform_(-bound, bound, generator=gen)
                m.bias.uniform_(-bound, bound, generator=gen)
    return model


def train(model, data, cfg, epochs, lam=0.0, seed=SEED):
    """Mini-batch Adam on cross-entropy + ``lam / n * l0_penalty(model)``."""
    X, y = data[0], data[1]
    gen = torch.Generator().manual_seed(seed)
    set_generator(model, gen)  # gate noise from the same local generator
    gates = [p for name, p in model.named_parameters() if name.endswith("log_alpha")]
    rest = [p for name, p in model.named_parameters() if not name.endswith("log_alpha")]
    groups = [{"params": rest}] + (
        [{"params": gates, "lr": cfg.gate_lr}] if gates else []
    )
    opt = torch.optim.Adam(groups, lr=cfg.lr)
    n = len(X)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(n, generator=gen)
        for start in range(0, n, cfg.batch_size):
            idx = order[start : start + cfg.batch_size]
            loss = F.cross_entropy(model(X[idx]), y[idx])
            if lam:
                loss = loss + lam / n * l0_penalty(model)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model.eval()


def accuracy(model, X, y):
    model.eval()
    with torch.no_grad():
        return (model(X).argmax(1) == y).float().mean().item()


def weight_counts(model):
    """(non-zero weights, stored parameters) of the Linear layers."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    kept = sum(int((m.weight != 0).sum()) for m in linears)
    stored = sum(m.weight.numel() + m.bias.numel() for m in linears)
    return kept, stored


def inference_ms(model, X, repeats):
    batch = X.repeat(math.ceil(1024 / len(X)), 1)[:1024]
    model.eval()
    times = []
    with torch.no_grad():
        for _ in range(5):
            model(batch)
        for _ in range(repeats):
            start = time.perf_counter()
            model(batch)
            times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def magnitude_prune(dense, n_keep):
    """Global L1 magnitude pruning of all Linear weights down to ``n_keep``."""
    import copy

    model = copy.deepcopy(dense)
    params = [(m, "weight") for m in model if isinstance(m, nn.Linear)]
    total = sum(m.weight.numel() for m, _ in params)
    torch_prune.global_unstructured(
        params, pruning_method=torch_prune.L1Unstructured, amount=total - n_keep
    )
    return model, params


def run(cfg):
    """Train, prune and measure; return the table rows."""
    data = load_data()
    X_test, y_test = data[2], data[3]
    dense = train(build(cfg.hidden), data, cfg, cfg.epochs)
    dense_weights, _ = weight_counts(dense)

    def row(name, model, note=""):
        kept, stored = weight_counts(model)
        return {
            "method": name,
            "weights": kept,
            "removed": 1 - kept / dense_weights,
            "params": stored,
            "accuracy": accuracy(model, X_test, y_test),
            "ms": inference_ms(model, X_test, cfg.timing_repeats),
            "note": note,
        }

    rows = [row("dense", dense)]
    for gate, lam in (("input", cfg.lam_input), ("weight", cfg.lam_weight)):
        gated = train(
            build(cfg.hidden, lambda i, o, g=gate: L0Linear(i, o, gate=g)),
            data, cfg, cfg.epochs, lam=lam,
        )  # fmt: skip
        small = prune(gated)
        torch.testing.assert_close(small(X_test), gated(X_test))
        rows.append(row(f"L0Linear(gate={gate!r}) + skl0.nn.prune", small))
        # magnitude pruning of the dense net to the same number of weights
        n_keep = rows[-1]["weights"]
        masked, _ = magnitude_prune(dense, n_keep)
        rows.append(row("  magnitude, global L1", masked, "no fine-tuning"))
        tuned, params = magnitude_prune(dense, n_keep)
        train(tuned, data, cfg, cfg.finetune_epochs)
        for m, name in params:  # make the mask permanent: plain zeros
            torch_prune.remove(m, name)
        note = f"fine-tuned {cfg.finetune_epochs} epochs"
        rows.append(row("  magnitude, global L1", tuned, note))
    return rows


def format_table(rows):
    dense = rows[0]
    header = (
        "| method | weights kept | removed | stored params | test acc | vs dense "
        "| ms / 1024 rows | note |"
    )
    lines = [header, "|" + "---|" * 8]
    for r in rows:
        lines.append(
            f"| {r['method']} | {r['weights']} | {100 * r['removed']:.1f}% "
            f"| {r['params']} | {100 * r['accuracy']:.2f}% "
            f"| {100 * (r['accuracy'] - dense['accuracy']):+.2f} pts "
            f"| {r['ms']:.3f} | {r['note']} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run for CI")
    parser.add_argument(
        "--full", action="store_true", help="full run even if SKL0_QUICK=1"
    )
    args = parser.parse_args(argv)
    quick = not args.full and (args.quick or os.environ.get("SKL0_QUICK") == "1")
    cfg = QUICK if quick else Config()
    torch.set_num_threads(1)  # stable timings; the network is small
    start = time.perf_counter()
    rows = run(cfg)
    mode = "quick" if quick else "full"
    print(f"digits MLP 64-{cfg.hidden}-{cfg.hidden}-10, {mode} mode, seed {SEED}")
    print(format_table(rows))
    print(f"total time {time.perf_counter() - start:.1f} s")
    return rows


if __name__ == "__main__":
    main()

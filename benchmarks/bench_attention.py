"""MultiheadAttention(256, 8) forward + backward, batch 32, sequence 64, float32 self-attention: scratch
against torch in one process with the same thread count (NumPy's BLAS and torch), ``torch_ref.bench``'s
timing (warm-up, then the median of rounds). Run from the repository root (so that this checkout's
``scratch`` is imported): ``python -m benchmarks.bench_attention [--threads N]``.

Not a pytest file (speed is never asserted); it prints one line per case with both times and the ratio.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from scratch import nn
from torch_ref.bench.runner import FULL, default_threads, same_threads, time_engines
from torch_ref.convert import to_torch

E, HEADS, BATCH, SEQ = 256, 8, 32, 64
WARMUP_CALLS = 10


def works(need_weights: bool, batch_first: bool) -> tuple:
    rng = np.random.default_rng(0)
    module = nn.MultiheadAttention(E, HEADS, batch_first=batch_first, rng=rng)
    twin = to_torch(module)
    shape = (BATCH, SEQ, E) if batch_first else (SEQ, BATCH, E)
    x = rng.standard_normal(shape).astype(np.float32)
    grad = rng.standard_normal(shape).astype(np.float32)
    tx, tgrad = torch.from_numpy(x).requires_grad_(), torch.from_numpy(grad)

    def ours() -> None:
        module.zero_grad()
        module(x, x, x, need_weights=need_weights)
        module.backward(grad)

    def theirs() -> None:
        twin.zero_grad()
        tx.grad = None
        out, _ = twin(tx, tx, tx, need_weights=need_weights)
        out.backward(tgrad)

    return ours, theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=default_threads())
    threads = parser.parse_args().threads
    cases = {(need_weights, batch_first): works(need_weights, batch_first)
             for need_weights in (False, True) for batch_first in (False, True)}
    with same_threads(threads):
        for ours, theirs in cases.values():  # a process-wide warm-up: the first case timed was 1.5x slow without it
            for _ in range(WARMUP_CALLS):
                ours()
                theirs()
        for (need_weights, batch_first), (ours, theirs) in cases.items():
            seconds = time_engines({"scratch": ours, "torch": theirs}, FULL)
            t_ours, t_theirs = seconds["scratch"], seconds["torch"]
            print(f"need_weights={need_weights!s:5} batch_first={batch_first!s:5} threads={threads}: scratch "
                  f"{t_ours * 1e3:7.2f} ms, torch {t_theirs * 1e3:7.2f} ms, ratio {t_ours / t_theirs:.2f}")


if __name__ == "__main__":
    main()

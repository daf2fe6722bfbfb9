"""The cost of ``Module._save``'s private copies: a layer that keeps its input for backward (Linear keeps x)
stores a copy of it, so that changing the input in place between forward and backward cannot change the
gradient (torch raises "modified by an inplace operation" there). This times forward + backward with the
copies and with ``private_copies`` replaced by the identity, alternately in rounds on the same arrays, and
prints the medians and the cost. Run from the repository root: ``python -m benchmarks.bench_saved_inputs``.

Not a pytest file (speed is never asserted). Measured on this 2-core machine, idle, float32: Linear(1024,
1024) at batch 256 +0.0% (9.2 ms), Conv2d(64, 64, 3) at 8x64x32x32 +1.6% (32.9 ms): one memcpy beside the
GEMMs; Linear(30, 5) at batch 3 +30%, 4 us of bookkeeping on a 13 us step.
"""

from __future__ import annotations

import timeit
from collections.abc import Callable

import numpy as np

import scratch.nn.modules.module as module_module
from scratch import nn

ROUNDS, CALLS, REPEATS = 6, 10, 3
_COPIES = module_module.private_copies


def _no_copies(value: object, inputs: object, copies: object) -> object:
    return value


def time_step(make: Callable[[], nn.Module], shape: tuple[int, ...]) -> tuple[float, float]:
    """Median seconds of one forward + backward with the private copies and without them."""
    rng = np.random.default_rng(0)
    module = make()
    x = rng.standard_normal(shape).astype(np.float32)
    grad = rng.standard_normal(module(x).shape).astype(np.float32)

    def step() -> None:
        module(x)
        module.backward(grad)

    times: dict[bool, list[float]] = {True: [], False: []}
    try:
        for _ in range(ROUNDS):
            for copies in (True, False):
                module_module.private_copies = _COPIES if copies else _no_copies
                times[copies].append(min(timeit.repeat(step, number=CALLS, repeat=REPEATS)) / CALLS)
    finally:
        module_module.private_copies = _COPIES
    return float(np.median(times[True])), float(np.median(times[False]))


CASES = {
    "Linear(1024, 1024) @256 fwd+bwd": (lambda: nn.Linear(1024, 1024, rng=np.random.default_rng(0)), (256, 1024)),
    "Linear(30, 5) @3 fwd+bwd": (lambda: nn.Linear(30, 5, rng=np.random.default_rng(0)), (3, 30)),
    "Conv2d(64, 64, 3, padding=1) @8x64x32x32 fwd+bwd": (
        lambda: nn.Conv2d(64, 64, 3, padding=1, rng=np.random.default_rng(0)), (8, 64, 32, 32)),
}


def main() -> None:
    for name, (make, shape) in CASES.items():
        with_copies, without = time_step(make, shape)
        print(f"{name:50s} with copies {with_copies * 1e3:9.3f} ms   without {without * 1e3:9.3f} ms   "
              f"cost {100 * (with_copies / without - 1):+.1f}%")


if __name__ == "__main__":
    main()

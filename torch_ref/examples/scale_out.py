r"""When a model outgrows NumPy: check it against torch, convert it with ``to_torch``, train the torch twin
with torch's own ``DistributedDataParallel`` and bring the result back with ``from_torch``.

Run it with ``python -m torch_ref.examples.scale_out [--dtype float32|float64] [--steps N]`` (exit status 0
when every check below holds, 1 otherwise). It is a plain module, not a ``parity train`` example: ``parity
train`` runs both engines side by side in one process, while this trains in torch alone, in several
processes, and compares with scratch afterwards.

1. A scratch MLP (16-32-4, tanh) on synthetic data (a random linear teacher labels Gaussian inputs: no
   download) is checked with ``torch_ref.compare`` for a few steps, both engines side by side.
2. ``to_torch(model)`` is trained with ``torch.nn.parallel.DistributedDataParallel`` on 2 CPU processes (the
   gloo backend, loopback only: 127.0.0.1 and a free port found at run time; started with
   ``torch.multiprocessing.spawn``; one torch thread each). Every step, rank r takes the r-th half of the
   batch and its mean loss. DDP averages the two gradients, and the mean of two equal-size halves' mean
   gradients is the whole batch's mean gradient, so after N steps rank 0's weights equal those of the scratch
   model trained in one process on the whole batches. Rank 1's equal rank 0's bit for bit (both apply the
   same averaged gradient).
3. ``from_torch`` turns rank 0's torch model back into a scratch model, its optimizer state with
   ``optimizer_state_from_torch``, and a few more steps in scratch agree with the scratch model trained
   throughout.

**Why "equal" needs a tolerance.** In one process the weight gradient is one sum over the batch's B rows,
(1/B) sum_i g_i. Under DDP each rank sums its B/2 rows and scales by 2/B, DDP divides that by the world size,
and the all-reduce adds the ranks' results: the same terms summed in another order and scaled at other points,
so rounded differently (in exact arithmetic the two are equal). The engines differ too, NumPy's matmul
against torch's. Both are rounding, carried from step to step, so the weights are held to the trajectory
tolerance of ``torch_ref.tolerance``: ``trajectory_rtol(dtype, n, steps)`` with n the longest reduction (the
batch, the features, the hidden width), in its relative measure ``relative_error``. The same measure on a
model trained on one half of every batch only is far beyond it: the check sees a missing half.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import os
import socket
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
import torch.distributed as dist
from torch.multiprocessing.spawn import spawn
from torch.nn.parallel import DistributedDataParallel

import scratch.optim
from scratch import nn

from ..convert import from_torch, optimizer_state_from_torch, to_torch
from ..tolerance import relative_error, trajectory_rtol
from ..training import compare

IN_FEATURES, HIDDEN, CLASSES = 16, 32, 4
ROWS, BATCH_SIZE = 256, 32
WORLD_SIZE = 2
STEPS, MORE_STEPS, COMPARE_STEPS = 20, 5, 3
OPTIMIZER, OPTIONS = "Adam", {"lr": 1e-2}
TIMEOUT_S = 120  # a rank that waits longer for the other fails instead of hanging (torch's default: 30 min)
DTYPES = {"float32": np.float32, "float64": np.float64}

Array = npt.NDArray[Any]


def make_data(dtype: Any, seed: int = 0) -> tuple[Array, Array]:
    """ROWS Gaussian inputs (ROWS, IN_FEATURES) and their classes under a random linear teacher (ROWS,)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((ROWS, IN_FEATURES))
    y = (x @ rng.standard_normal((IN_FEATURES, CLASSES))).argmax(axis=1)
    return x.astype(dtype), y.astype(np.int64)


def build_model(dtype: Any, seed: int = 0) -> nn.Sequential:
    rng = np.random.default_rng(seed)
    return nn.Sequential(nn.Linear(IN_FEATURES, HIDDEN, dtype=dtype, rng=rng), nn.Tanh(),
                         nn.Linear(HIDDEN, CLASSES, dtype=dtype, rng=rng))


def batch(array: Array, step: int) -> Array:
    """Step ``step``'s batch: BATCH_SIZE rows, the batches taken in order and cycling."""
    start = (step * BATCH_SIZE) % len(array)
    return array[start:start + BATCH_SIZE]


def part(array: Array, rank: int) -> Array:
    """Rank ``rank``'s share of a batch: its rank-th of WORLD_SIZE equal parts."""
    size = len(array) // WORLD_SIZE
    return array[rank * size:(rank + 1) * size]


def train_scratch(model: nn.Module, optimizer: Any, x: Array, y: Array, steps: range, only: int | None = None) -> None:
    """Train ``model`` in place on the batches of ``steps``, whole (or only the part of rank ``only``)."""
    criterion = nn.CrossEntropyLoss()
    for step in steps:
        xb, yb = batch(x, step), batch(y, step)
        if only is not None:
            xb, yb = part(xb, only), part(yb, only)
        optimizer.zero_grad()
        criterion(model(xb), yb)
        model.backward(criterion.backward())
        optimizer.step()


def free_port() -> int:
    """A TCP port free on the loopback interface now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _loopback() -> str:
    """The loopback interface's name (``lo`` on Linux, ``lo0`` on macOS)."""
    return next((name for _, name in socket.if_nameindex() if name.startswith("lo")), "lo")


def _worker(rank: int, port: int, model: nn.Module, x: Array, y: Array, steps: int, folder: str) -> None:
    """One DDP process: train ``to_torch(model)`` on its part of every batch; save its weights and optimizer."""
    torch.set_num_threads(1)
    os.environ["GLOO_SOCKET_IFNAME"] = _loopback()  # gloo would otherwise use the address of the host's name
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD_SIZE,
                            timeout=datetime.timedelta(seconds=TIMEOUT_S))
    try:
        ddp = DistributedDataParallel(to_torch(model))
        optimizer = getattr(torch.optim, OPTIMIZER)(ddp.parameters(), **OPTIONS)
        criterion = torch.nn.CrossEntropyLoss()
        for step in range(steps):
            xb, yb = (torch.from_numpy(part(batch(a, step), rank)) for a in (x, y))
            optimizer.zero_grad()
            criterion(ddp(xb), yb).backward()  # the backward all-reduces the gradients: their mean over ranks
            optimizer.step()
        torch.save({"model": ddp.module.state_dict(), "optimizer": optimizer.state_dict()},
                   os.path.join(folder, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


def train_ddp(model: nn.Module, x: Array, y: Array, steps: int) -> list[dict[str, Any]]:
    """Train ``to_torch(model)`` with DDP on WORLD_SIZE CPU processes; each rank's saved weights and optimizer."""
    with tempfile.TemporaryDirectory() as folder:
        spawn(_worker, args=(free_port(), model, x, y, steps, folder), nprocs=WORLD_SIZE,  # type: ignore[no-untyped-call]
              join=True)
        return [torch.load(os.path.join(folder, f"rank{rank}.pt")) for rank in range(WORLD_SIZE)]


def back_to_scratch(model: nn.Module, saved: dict[str, Any]) -> tuple[nn.Module, Any]:
    """A scratch model and optimizer from a rank's saved torch state, through ``from_torch``."""
    twin = to_torch(model)
    twin.load_state_dict(saved["model"])
    back = from_torch(twin)
    optimizer = getattr(scratch.optim, OPTIMIZER)(back.parameters(), **OPTIONS)
    optimizer.load_state_dict(optimizer_state_from_torch(saved["optimizer"]))
    return back, optimizer


def weight_error(actual: nn.Module, expected: nn.Module) -> float:
    """The largest relative error (tolerance.py's measure) over the parameters of two scratch models."""
    theirs = dict(expected.named_parameters())
    return max(relative_error(p.data, theirs[name].data)[1] for name, p in actual.named_parameters())


@dataclass(frozen=True)
class Result:
    """What ``run`` found: each error is tolerance.py's max relative error over every parameter."""

    dtype: str
    steps: int
    compare_ok: bool  # step 1: torch_ref.compare, scratch and torch side by side
    compare_err: float
    ddp_err: float  # step 2: rank 0 after DDP against scratch on the whole batches
    ddp_tol: float
    ranks_equal: bool  # rank 1's weights and optimizer state equal rank 0's bit for bit
    half_err: float  # scratch on the first half of every batch only, against rank 0: must fail
    more_err: float  # step 3: from_torch(rank 0) and scratch after MORE_STEPS more steps
    more_tol: float
    losses: tuple[float, float, float]  # scratch's loss on every row: before, after `steps`, after the more steps

    @property
    def ok(self) -> bool:
        return (self.compare_ok and self.ddp_err <= self.ddp_tol and self.ranks_equal
                and self.half_err > self.ddp_tol and self.more_err <= self.more_tol)


def _same(a: Any, b: Any) -> bool:
    """Nested dicts/lists of tensors and numbers equal exactly."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(u, v) for u, v in zip(a, b))
    if isinstance(a, torch.Tensor):
        return bool(torch.equal(a, b))
    return bool(a == b)


def _loss(model: nn.Module, x: Array, y: Array) -> float:
    return float(nn.CrossEntropyLoss()(model(x), y))


def run(dtype: Any = np.float32, steps: int = STEPS, seed: int = 0) -> Result:
    """The three steps of the module docstring, in ``dtype``, with ``steps`` DDP steps."""
    x, y = make_data(dtype, seed)
    model = build_model(dtype, seed)
    report = compare(copy.deepcopy(model), nn.CrossEntropyLoss(), x, y, optimizer=(OPTIMIZER, dict(OPTIONS)),
                     steps=COMPARE_STEPS, batch_size=BATCH_SIZE)
    saved = train_ddp(model, x, y, steps)
    n = max(BATCH_SIZE, IN_FEATURES, HIDDEN)  # the longest reduction: a weight gradient's sum over the batch
    start = _loss(model, x, y)
    half = copy.deepcopy(model)
    train_scratch(half, getattr(scratch.optim, OPTIMIZER)(half.parameters(), **OPTIONS), x, y, range(steps), only=0)
    optimizer = getattr(scratch.optim, OPTIMIZER)(model.parameters(), **OPTIONS)
    train_scratch(model, optimizer, x, y, range(steps))  # the reference: one process, the whole batches
    back, back_optimizer = back_to_scratch(model, saved[0])
    ddp_err, half_err, middle = weight_error(back, model), weight_error(half, back), _loss(model, x, y)
    more = range(steps, steps + MORE_STEPS)
    train_scratch(model, optimizer, x, y, more)
    train_scratch(back, back_optimizer, x, y, more)
    return Result(dtype=np.dtype(dtype).name, steps=steps, compare_ok=report.ok,
                  compare_err=max((c.max_rel_err for c in report.comparisons), default=0.0),
                  ddp_err=ddp_err, ddp_tol=trajectory_rtol(dtype, n, steps), ranks_equal=_same(saved[0], saved[1]),
                  half_err=half_err, more_err=weight_error(back, model),
                  more_tol=trajectory_rtol(dtype, n, steps + MORE_STEPS),
                  losses=(start, middle, _loss(model, x, y)))


def _verdict(err: float, tol: float) -> str:
    return f"max rel err {err:.2e} {'<=' if err <= tol else '>'} tol {tol:.2e}"


def describe(result: Result) -> str:
    """The report ``main`` prints."""
    steps, more = result.steps, result.steps + MORE_STEPS
    return "\n".join([
        f"MLP {IN_FEATURES}-{HIDDEN}-{CLASSES} (tanh), {OPTIMIZER} (lr {OPTIONS['lr']}), batches of {BATCH_SIZE} "
        f"from {ROWS} synthetic rows, {result.dtype}",
        f"1. torch_ref.compare, {COMPARE_STEPS} steps side by side: {'ok' if result.compare_ok else 'DIVERGED'} "
        f"(max rel err {result.compare_err:.2e})",
        f"2. DDP, {WORLD_SIZE} CPU processes (gloo, 127.0.0.1), {BATCH_SIZE // WORLD_SIZE} rows each, {steps} steps",
        f"   rank 0 vs scratch on whole batches:   {_verdict(result.ddp_err, result.ddp_tol)}",
        f"   rank 1 equals rank 0 bit for bit:     {'yes' if result.ranks_equal else 'NO'}",
        f"   scratch on one half only (must fail): {_verdict(result.half_err, result.ddp_tol)}",
        f"3. from_torch(rank 0), {MORE_STEPS} more steps:     {_verdict(result.more_err, result.more_tol)}",
        f"loss on all rows: {result.losses[0]:.4f} (step 0), {result.losses[1]:.4f} (step {steps}), "
        f"{result.losses[2]:.4f} (step {more})",
        "ok" if result.ok else "FAILED",
    ])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m torch_ref.examples.scale_out",
                                     description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="float32")
    parser.add_argument("--steps", type=int, default=STEPS, metavar="N", help=f"DDP steps (default {STEPS})")
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error(f"--steps must be >= 1, got {args.steps}")
    result = run(DTYPES[args.dtype], args.steps)
    print(describe(result))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())

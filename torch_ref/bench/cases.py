"""The benchmark cases, shared by ``parity bench`` and ``benchmarks/`` (pytest-benchmark).

A case builds its work for the engines asked for: the scratch model, data and optimizer first, from a
seeded generator, then each torch variant's twin from it (``torch_ref.to_torch``: the same weights
and the same data), so every engine does the same work from the same starting point. Each engine's
work is a zero-argument callable; one call is the unit that is timed. ``flops`` counts the
multiply-adds of the matrix products the work needs (2 per multiply-add; elementwise work is not
counted), so GFLOP/s compares with the GEMM peak; it is None where the work is not matrix products.
``bytes_moved`` is the least memory traffic of one call, for the cases bound by it (optimizer steps,
elementwise layers on large arrays), each counted as its ``bytes_note`` says; it gives the bandwidth
floor (``torch_ref/bench/bandwidth.py``). It is None where the work is compute-bound or fits in cache.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import torch

from scratch import nn, optim
from scratch.nn.parameter import Parameter

from ..arrays import to_numpy
from ..convert import to_torch
from . import work
from .work import TORCH_KERNELS

SCRATCH = "scratch"
ENGINES = (SCRATCH, "torch")
OPTIMIZER_ENGINES = (SCRATCH, *TORCH_KERNELS)  # scratch, torch, torch-foreach, torch-fused
Work = dict[str, Callable[[], Any]]


@dataclass(frozen=True)
class Case:
    """One benchmark: ``build(engines)`` returns ``{engine: callable}``; ``check(result)`` asserts a real
    property of one call's result (a smoke test, never a speed); ``sweep`` places a Linear case on the
    plot's batch-size or width axis; ``bytes_moved`` (see the module docstring) is explained by ``bytes_note``."""

    name: str
    family: str
    build: Callable[[Sequence[str]], Work]
    check: Callable[[Any], None]
    flops: float | None = None
    engines: tuple[str, ...] = ENGINES
    quick: bool = False
    sweep: dict[str, int] = field(default_factory=dict)
    bytes_moved: float | None = None
    bytes_note: str = ""


# ---------------------------------------------------------------- checks
def _finite_with_shape(shape: tuple[int, ...]) -> Callable[[Any], None]:
    def check(result: Any) -> None:
        array = np.asarray(to_numpy(result))
        assert array.shape == shape, f"expected shape {shape}, got {array.shape}"
        assert np.isfinite(array).all(), "non-finite values"
    return check


def _positive_finite_loss(result: Any) -> None:
    assert np.isfinite(result) and result > 0, f"expected a positive finite loss, got {result}"


def _softmax_grad_rows(shape: tuple[int, ...]) -> Callable[[Any], None]:
    """dL/dlogits of a mean cross-entropy is (softmax - onehot) / N: each row sums to zero."""
    def check(result: Any) -> None:
        array = np.asarray(to_numpy(result))
        assert array.shape == shape and np.isfinite(array).all()
        assert np.abs(array.sum(axis=1)).max() < 1e-6 and np.abs(array).max() > 0
    return check


# ---------------------------------------------------------------- builders
def _torch_twins(module: Any, engines: Sequence[str]) -> dict[str, torch.nn.Module]:
    return {engine: to_torch(module) for engine in engines if engine != SCRATCH}


def _tensor(array: np.ndarray, requires_grad: bool = False) -> torch.Tensor:
    return torch.tensor(array, requires_grad=requires_grad)


def _module_case(name: str, family: str, make: Callable[[np.random.Generator], Any], x_shape: tuple[int, ...],
                 out_shape: tuple[int, ...], flops: float | None, **options: Any) -> Case:
    """forward + backward of one module on input (x_shape) and a random upstream gradient (out_shape)."""
    def build(engines: Sequence[str]) -> Work:
        rng = np.random.default_rng(0)
        module = make(rng)
        x = rng.standard_normal(x_shape, dtype=np.float32)
        grad = rng.standard_normal(out_shape, dtype=np.float32)
        jobs: Work = {engine: partial(work.torch_forward_backward, twin, _tensor(x, True), _tensor(grad))
                      for engine, twin in _torch_twins(module, engines).items()}
        if SCRATCH in engines:
            jobs[SCRATCH] = partial(work.scratch_forward_backward, module, x, grad)
        return jobs
    return Case(name, family, build, _finite_with_shape(x_shape), flops, **options)


def _mlp(widths: Sequence[int], rng: np.random.Generator) -> nn.Sequential:
    layers: list[nn.Module] = []
    for fan_in, fan_out in itertools.pairwise(widths):
        layers += [nn.Linear(fan_in, fan_out, rng=rng), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def mlp_flops(widths: Sequence[int], batch: int) -> float:
    """Forward 2NIO per layer, backward 2NIO for dW and 2NIO for dX (not needed by the first layer)."""
    pairs = list(itertools.pairwise(widths))
    return sum(2.0 * batch * i * o for i, o in pairs) * 3 - 2.0 * batch * pairs[0][0] * pairs[0][1]


def _criteria(classes: int) -> tuple[Any, Callable[[], torch.nn.Module]]:
    """Cross-entropy over the classes; MSELoss for a single output (cross-entropy of one class is 0)."""
    if classes == 1:
        return nn.MSELoss(), torch.nn.MSELoss
    return nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss


def _training_data(widths: Sequence[int], rows: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = rng.standard_normal((rows, widths[0]), dtype=np.float32)
    if widths[-1] == 1:
        return x, rng.standard_normal((rows, 1), dtype=np.float32)
    return x, rng.integers(0, widths[-1], rows)


def build_training_step(widths: Sequence[int], batch: int, engines: Sequence[str]) -> Work:
    """zero_grad, forward, loss, backward and Adam, on one batch, for each engine."""
    rng = np.random.default_rng(0)
    model = _mlp(widths, rng)
    x, y = _training_data(widths, batch, rng)
    criterion, torch_criterion = _criteria(widths[-1])
    jobs: Work = {}
    for engine, twin in _torch_twins(model, engines).items():
        adam = torch.optim.Adam(twin.parameters(), **TORCH_KERNELS[engine])
        jobs[engine] = partial(work.torch_train_step, twin, torch_criterion(), adam, torch.from_numpy(x),
                               torch.from_numpy(y))
    if SCRATCH in engines:
        model.requires_input_grad_(False)  # x is data: torch's does not require grad, so neither engine computes dx
        jobs[SCRATCH] = partial(work.scratch_train_step, model, criterion, optim.Adam(model.parameters()), x, y)
    return jobs


def _step_case(name: str, widths: Sequence[int], batch: int, quick: bool) -> Case:
    return Case(name, "train step", partial(build_training_step, widths, batch), _positive_finite_loss,
                mlp_flops(widths, batch), OPTIMIZER_ENGINES, quick)


def _epoch_case(widths: Sequence[int], rows: int, batch_size: int) -> Case:
    def build(engines: Sequence[str]) -> Work:
        rng = np.random.default_rng(0)
        model = _mlp(widths, rng)
        x, y = _training_data(widths, rows, rng)
        criterion, torch_criterion = _criteria(widths[-1])
        jobs: Work = {}
        for engine, twin in _torch_twins(model, engines).items():
            sgd = torch.optim.SGD(twin.parameters(), lr=0.01)
            jobs[engine] = partial(work.torch_epoch, twin, torch_criterion(), sgd, torch.from_numpy(x),
                                   torch.from_numpy(y), batch_size)
        if SCRATCH in engines:
            model.requires_input_grad_(False)  # as in a training step: x is data
            scratch_sgd = optim.SGD(model.parameters(), lr=0.01)
            jobs[SCRATCH] = partial(work.scratch_epoch, model, criterion, scratch_sgd, x, y, batch_size)
        return jobs
    label = "per-sample" if batch_size == 1 else f"batch {batch_size}"
    name = f"epoch {'-'.join(map(str, widths))} {label} ({rows} rows, SGD)"
    return Case(name, "epoch", build, _positive_finite_loss, mlp_flops(widths, rows), quick=True)


def _optimizer_case(name: str, make: Callable[..., Any], total: int, arrays: tuple[str, str], **hyper: Any) -> Case:
    """One optimizer step over ``total`` parameters (tensors of 1000 x 1000) with fixed gradients. ``arrays``
    names the per-parameter arrays the step reads and those it writes, each a float32 of ``total`` values."""
    shapes = [(1000, 1000)] * (total // 1_000_000)

    def build(engines: Sequence[str]) -> Work:
        rng = np.random.default_rng(0)
        data = [rng.standard_normal(shape, dtype=np.float32) for shape in shapes]
        grads = [rng.standard_normal(shape, dtype=np.float32) for shape in shapes]
        jobs: Work = {}
        for engine in engines:
            params: list[Any]  # scratch's Parameters or torch's
            if engine == SCRATCH:
                params = [Parameter(d) for d in data]
                cls = getattr(optim, make.__name__)
            else:
                params = [torch.nn.Parameter(torch.tensor(d)) for d in data]
                cls = make
            for param, grad in zip(params, grads):
                param.grad = grad.copy() if engine == SCRATCH else torch.tensor(grad)
            options = {**hyper, **TORCH_KERNELS.get(engine, {})}
            step = work.scratch_optimizer_step if engine == SCRATCH else work.torch_optimizer_step
            jobs[engine] = partial(step, cls(params, **options))
        return jobs
    reads, writes = arrays
    count = len(reads.split(", ")) + len(writes.split(", "))
    note = f"reads {reads}; writes {writes}: {count} x {total:,} float32 (the state of a step after the first)"
    return Case(name, "optimizer", build, _finite_with_shape(shapes[0]), None, OPTIMIZER_ENGINES, quick=True,
                bytes_moved=count * 4.0 * total, bytes_note=note)


def _cross_entropy_case(rows: int, classes: int) -> Case:
    def build(engines: Sequence[str]) -> Work:
        rng = np.random.default_rng(0)
        logits = rng.standard_normal((rows, classes), dtype=np.float32)
        target = rng.integers(0, classes, rows)
        jobs: Work = {engine: partial(work.torch_loss, torch.nn.CrossEntropyLoss(), _tensor(logits, True),
                                      torch.from_numpy(target)) for engine in engines if engine != SCRATCH}
        if SCRATCH in engines:
            jobs[SCRATCH] = partial(work.scratch_loss, nn.CrossEntropyLoss(), logits, target)
        return jobs
    return Case(f"CrossEntropyLoss {rows}x{classes} fwd+bwd", "loss", build, _softmax_grad_rows((rows, classes)),
                quick=True)


def _linear_case(batch: int, width: int, quick: bool) -> Case:
    return _module_case(f"Linear {batch}x{width}->{width} fwd+bwd", "linear",
                        lambda rng: nn.Linear(width, width, rng=rng), (batch, width), (batch, width),
                        6.0 * batch * width * width, quick=quick, sweep={"batch": batch, "width": width})


# the plot's two sweeps: batch size at width 1024, width at batch 256 (their crossing counted once)
SWEEP_WIDTH, SWEEP_BATCH = 1024, 256
LINEAR_BATCHES, LINEAR_WIDTHS = (16, 64, 256, 1024), (128, 512, 1024, 2048)
QUICK_LINEAR = {(64, 1024), (256, 1024), (256, 512)}
LARGE_STEP = "train step Linear(4096,4096)@512, Adam"


def _linear_cases() -> list[Case]:
    sizes = [(batch, SWEEP_WIDTH) for batch in LINEAR_BATCHES]
    sizes += [(SWEEP_BATCH, width) for width in LINEAR_WIDTHS if (SWEEP_BATCH, width) not in sizes]
    return [_linear_case(batch, width, (batch, width) in QUICK_LINEAR) for batch, width in sizes]


def _conv_case() -> Case:
    n, c, hw = 32, 64, 32
    return _module_case(f"Conv2d {c}->{c} 3x3 pad 1, {n}x{c}x{hw}x{hw} fwd+bwd", "conv",
                        lambda rng: nn.Conv2d(c, c, 3, padding=1, rng=rng), (n, c, hw, hw), (n, c, hw, hw),
                        3 * 2.0 * n * c * hw * hw * c * 9, quick=True)


def _conv3d_case() -> Case:
    n, c, d = 8, 16, 16
    return _module_case(f"Conv3d {c}->{c} 3x3x3 pad 1, {n}x{c}x{d}x{d}x{d} fwd+bwd", "conv",
                        lambda rng: nn.Conv3d(c, c, 3, padding=1, rng=rng), (n, c, d, d, d), (n, c, d, d, d),
                        3 * 2.0 * n * c * d ** 3 * c * 27, quick=True)


def _conv_transpose2d_case() -> Case:
    """The upsampling layer of a decoder: 4x4 kernel, stride 2, padding 1 doubles H and W."""
    n, c_in, c_out, hw = 32, 64, 32, 16
    return _module_case(f"ConvTranspose2d {c_in}->{c_out} 4x4 stride 2 pad 1, {n}x{c_in}x{hw}x{hw} fwd+bwd", "conv",
                        lambda rng: nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, rng=rng),
                        (n, c_in, hw, hw), (n, c_out, 2 * hw, 2 * hw), 3 * 2.0 * n * c_in * hw * hw * c_out * 16,
                        quick=True)


def _lstm_case() -> Case:
    seq, batch, features, hidden = 35, 32, 128, 256
    return _module_case(f"LSTM {features}->{hidden}, seq {seq} batch {batch} fwd+bwd", "rnn",
                        lambda rng: nn.LSTM(features, hidden, rng=rng), (seq, batch, features), (seq, batch, hidden),
                        3 * 2.0 * seq * batch * 4 * hidden * (features + hidden), quick=True)


def _instance_norm_case() -> Case:
    """No matrix products (flops None): two reductions per plane forward, two more backward."""
    n, c, hw = 32, 64, 32
    size = n * c * hw * hw
    return _module_case(f"InstanceNorm2d affine, {n}x{c}x{hw}x{hw} fwd+bwd", "normalization",
                        lambda rng: nn.InstanceNorm2d(c, affine=True), (n, c, hw, hw), (n, c, hw, hw), None,
                        quick=True, bytes_moved=5 * 4.0 * size,
                        bytes_note=f"forward reads x, writes y; backward reads dy and x, writes dx: 5 x {size:,} "
                                   "float32 (the statistics in one pass; the per-channel weights negligible)")


def _upsample_case() -> Case:
    n, c, hw = 8, 32, 64
    size = n * c * hw * hw
    return _module_case(f"Upsample bilinear x2, {n}x{c}x{hw}x{hw} fwd+bwd", "upsampling",
                        lambda rng: nn.Upsample(scale_factor=2, mode="bilinear"), (n, c, hw, hw),
                        (n, c, 2 * hw, 2 * hw), None, quick=True, bytes_moved=10 * 4.0 * size,
                        bytes_note=f"forward reads x ({size:,}), writes y (4x); backward reads dy (4x), writes "
                                   f"dx (1x): 10 x {size:,} float32")


def _attention_case() -> Case:
    """Self-attention (the same x as query, key and value): dL/dx is the sum of the three input gradients."""
    embed, heads, batch, seq = 256, 8, 32, 64

    def build(engines: Sequence[str]) -> Work:
        rng = np.random.default_rng(0)
        module = nn.MultiheadAttention(embed, heads, batch_first=True, rng=rng)
        x = rng.standard_normal((batch, seq, embed), dtype=np.float32)
        grad = rng.standard_normal((batch, seq, embed), dtype=np.float32)
        jobs: Work = {engine: partial(work.torch_self_attention, twin, _tensor(x, True), _tensor(grad))
                      for engine, twin in _torch_twins(module, engines).items()}
        if SCRATCH in engines:
            jobs[SCRATCH] = partial(work.scratch_self_attention, module, x, grad)
        return jobs
    # in-projection 3 x 2NE^2 L, scores and weighted values 2 x 2 N L^2 E, out-projection 2NE^2 L; x3 with backward
    flops = 3 * (4 * 2.0 * batch * seq * embed * embed + 2 * 2.0 * batch * seq * seq * embed)
    return Case(f"MultiheadAttention({embed}, {heads}), batch {batch} seq {seq} fwd+bwd", "attention", build,
                _finite_with_shape((batch, seq, embed)), flops, quick=True)


def _char_gpt_step_case() -> Case:
    """One training step of the ``parity train char-gpt`` model: forward, loss, backward, AdamW."""
    from ..examples import char_gpt

    def build(engines: Sequence[str]) -> Work:
        model = char_gpt.build_model(np.dtype(np.float32), np.random.default_rng(0))
        x, y, _, _ = char_gpt.load_data(np.random.default_rng(0))
        x, y = x[:char_gpt.BATCH_SIZE], y[:char_gpt.BATCH_SIZE]
        jobs: Work = {}
        for engine, twin in _torch_twins(model, engines).items():
            adamw = torch.optim.AdamW(twin.parameters(), lr=1e-3, weight_decay=0.1)
            jobs[engine] = partial(work.torch_train_step, twin, torch.nn.CrossEntropyLoss(), adamw,
                                   torch.from_numpy(x), torch.from_numpy(y))
        if SCRATCH in engines:
            scratch_adamw = optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
            jobs[SCRATCH] = partial(work.scratch_train_step, model, nn.CrossEntropyLoss(), scratch_adamw, x, y)
        return jobs
    return Case(f"train step char-gpt (2 blocks, d 64), batch {char_gpt.BATCH_SIZE}x{char_gpt.CONTEXT}, AdamW",
                "train step", build, _positive_finite_loss, None, quick=True)


def all_cases() -> list[Case]:
    """Every case, in table order. Building a case's work is deferred to ``case.build``."""
    steps = [_step_case(f"train step MLP {'-'.join(map(str, w))}@{b}, Adam", w, b, True)
             for w, b in (([30, 5, 3], 3), ([2, 16, 1], 4), ([64, 128, 10], 64), ([784, 1024, 1024, 10], 256))]
    steps.append(_step_case(LARGE_STEP, [4096, 4096], 512, False))
    epochs = [_epoch_case([64, 128, 10], 512, batch_size) for batch_size in (1, 64)]
    optimizers = [_optimizer_case("SGD(momentum=0.9) step, 10M params", torch.optim.SGD, 10_000_000,
                                  ("param, grad, momentum_buffer", "param, momentum_buffer"), lr=0.01, momentum=0.9),
                  _optimizer_case("Adam step, 10M params", torch.optim.Adam, 10_000_000,
                                  ("param, grad, exp_avg, exp_avg_sq", "param, exp_avg, exp_avg_sq"), lr=0.001)]
    convs = [_conv_case(), _conv3d_case(), _conv_transpose2d_case()]
    return [*_linear_cases(), *steps, _char_gpt_step_case(), *convs, _lstm_case(), _attention_case(),
            _instance_norm_case(), _upsample_case(), _cross_entropy_case(256, 1000), *optimizers, *epochs]

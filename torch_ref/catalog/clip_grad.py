"""Gradient clipping: the clipped gradients and the returned total norm."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from scratch import nn
from scratch.nn.utils import clip_grad_norm_, clip_grad_value_

from ..report import ParityResult
from ..tolerance import MIN_GRAD_NORM, reduction_length, rtol
from .case import Case
from .data import normal

SHAPES = [(6, 4), (4,), (3, 2, 5), (7, 3)]


def make_params(dtype: np.dtype, rng: np.random.Generator, scale: float = 1.0,
                shapes: list[tuple[int, ...]] = SHAPES, without_grad: int | None = 2) -> list[nn.Parameter]:
    """Parameters with random gradients of roughly ``scale`` per entry; the one at ``without_grad`` has none."""
    params = [nn.Parameter(normal(rng, dtype, *shape)) for shape in shapes]
    for i, param in enumerate(params):
        param.grad = None if i == without_grad else normal(rng, dtype, *param.shape, scale=scale)
    return params


def torch_twins(params: list[nn.Parameter]) -> list[torch.nn.Parameter]:
    twins = [torch.nn.Parameter(torch.tensor(p.data)) for p in params]
    for param, twin in zip(params, twins):
        twin.grad = None if param.grad is None else torch.tensor(param.grad)
    return twins


def compare_grads(result: ParityResult, params: list[nn.Parameter], twins: list[torch.nn.Parameter],
                  tol: float) -> None:
    """Every gradient equal to torch's (and non-trivial); a None gradient must stay None on both sides."""
    for i, (param, twin) in enumerate(zip(params, twins)):
        if param.grad is None or twin.grad is None:
            result.add(f"{i}.grad", np.array(param.grad is None), np.array(twin.grad is None), 0.0)
        else:
            result.add(f"{i}.grad", param.grad, twin.grad, tol, MIN_GRAD_NORM)


def clip_norm_check(name: str, max_norm: float, norm_type: float = 2.0, scale: float = 1.0, **options: Any) -> Case:
    """clip_grad_norm_ on a few parameters (one without a grad): the total norm and every clipped gradient."""
    def run(dtype: np.dtype, rng: np.random.Generator) -> ParityResult:
        params = make_params(dtype, rng, scale)
        twins = torch_twins(params)
        total = clip_grad_norm_(params, max_norm, norm_type, **options)
        torch_total = torch.nn.utils.clip_grad_norm_(twins, max_norm, norm_type, **options)
        # the longest sum: every gradient's entries, then the per-parameter norms
        tol = rtol(dtype, reduction_length(*[p.data.ravel() for p in params]) + len(params))
        result = ParityResult()
        result.add("total_norm", total, torch_total, tol)
        compare_grads(result, params, twins, tol)
        return result
    return Case(name, run, "function")


def clip_value_check(name: str, clip_value: float, scale: float = 1.0) -> Case:
    """clip_grad_value_ on a few parameters (one without a grad): every clamped gradient, exactly."""
    def run(dtype: np.dtype, rng: np.random.Generator) -> ParityResult:
        params = make_params(dtype, rng, scale)
        twins = torch_twins(params)
        clip_grad_value_(params, clip_value)
        torch.nn.utils.clip_grad_value_(twins, clip_value)
        result = ParityResult()
        compare_grads(result, params, twins, 0.0)
        return result
    return Case(name, run, "function")


def _cases() -> list[Case]:
    checks = []
    for norm_type in (1.0, 2.0, 3.0, math.inf):
        label = "inf" if math.isinf(norm_type) else f"{norm_type:g}"
        checks += [clip_norm_check(f"clip_grad_norm_(p={label}, clipped)", 1.0, norm_type),
                   clip_norm_check(f"clip_grad_norm_(p={label}, below max_norm)", 1e3, norm_type, scale=0.1)]
    checks += [clip_norm_check("clip_grad_norm_(p=0.5, foreach=True)", 2.0, 0.5, foreach=True),
               clip_value_check("clip_grad_value_(0.5)", 0.5),
               clip_value_check("clip_grad_value_(3)", 3.0, scale=4.0)]
    return checks


CASES: list[Case] = _cases()
